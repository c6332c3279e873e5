/* Map editor behaviour: drag-and-drop (SortableJS) of stages, of steps (across stages) and
   of cards within their cell, the cards' move buttons, keyboard shortcuts, focus kept on
   what moved, closing the editor panel. Everything else is htmx attributes in the templates. */
(function () {
  "use strict";

  function grid() { return document.getElementById("map-grid"); }

  // where focus goes once the refreshed grid is in: a CSS selector list, first match wins
  var pendingFocus = null;
  var announce = false;

  function post(url, values, focus) {
    values.map_version = grid().dataset.mapVersion;
    pendingFocus = focus || null;
    announce = true;
    htmx.ajax("POST", url, { target: "#map-grid", swap: "outerHTML", values: values });
  }

  // A card's kind and id, from its edit link (edit/painpoint/7/?v=3): no per-card attribute
  // in the page (#16 page weight). Only pain points and lane items are reordered.
  var CARD_KIND = /(?:^|\/)edit\/(painpoint|laneitem)\/(\d+)\//;
  function cardOf(article) {
    var edit = article.querySelector(".card-actions a[data-panel]");
    var match = edit && CARD_KIND.exec(edit.getAttribute("href"));
    if (!match) return null;
    return {
      kind: match[1], id: match[2],
      url: edit.getAttribute("href").replace(/\d+\/(\?.*)?$/, "reorder/"),
      label: (edit.getAttribute("aria-label") || "").replace(/^Edit /, ""),
    };
  }

  // --- steps: the stage of the place a step is dropped at ---------------------------------
  // Each step's stage, read from the stage headers (colspan, data-stage) before the drag.
  function stagesOfSteps() {
    var stages = {};
    var heads = grid().querySelectorAll("th.stage-head");
    var steps = grid().querySelectorAll("tr[data-sortable=step] > th[data-id]");
    var i = 0;
    heads.forEach(function (head) {
      for (var n = 0; n < head.colSpan; n++, i++) {
        if (steps[i]) stages[steps[i].dataset.id] = head.dataset.stage;
      }
    });
    return stages;
  }

  // The stage header under the pointer's x when the step was let go (headers do not move
  // while the steps do), or undefined.
  function stageUnder(x) {
    var found;
    grid().querySelectorAll("th.stage-head").forEach(function (head) {
      var box = head.getBoundingClientRect();
      if (x >= box.left && x < box.right) found = head.dataset.stage;
    });
    return found;
  }

  var dragStages = null;
  var lastX = null;
  function trackPointer(event) { if (event.clientX) lastX = event.clientX; }

  // Between two steps of one stage: that stage. Between two stages: the one whose header
  // the pointer was under (so a step dragged onto another stage's header joins it even at
  // its edge); otherwise the side it came from.
  function dropStage(item, movedRight) {
    var prev = item.previousElementSibling, next = item.nextElementSibling;
    var left = prev && prev.dataset.id ? dragStages[prev.dataset.id] : undefined;
    var right = next && next.dataset.id ? dragStages[next.dataset.id] : undefined;
    if (left === undefined) return right;
    if (right === undefined || left === right) return left;
    var under = lastX === null ? undefined : stageUnder(lastX);
    if (under === left || under === right) return under;
    return movedRight ? left : right;
  }

  function stepDropped(el, evt) {
    document.removeEventListener("dragover", trackPointer, true);
    document.removeEventListener("pointermove", trackPointer, true);
    var id = evt.item.dataset.id;
    var stage = dropStage(evt.item, evt.newIndex > evt.oldIndex);
    if (stage === undefined) stage = dragStages[id];
    if (evt.oldIndex === evt.newIndex && stage === dragStages[id]) return;
    var ids = Array.prototype.map.call(el.querySelectorAll(":scope > [data-id]"), function (n) {
      return n.dataset.id;
    });
    post(grid().dataset.reorderUrl, { order: ids.join(","), moved: id, stage: stage || "" });
  }

  function initSortables(root) {
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll("[data-sortable]").forEach(function (el) {
      if (el.dataset.sortableReady) return;
      el.dataset.sortableReady = "1";
      var kind = el.dataset.sortable;
      Sortable.create(el, {
        animation: 150,
        handle: ".drag-handle",
        draggable: "[data-id]",
        onStart: function () {
          if (kind !== "step") return;
          dragStages = stagesOfSteps();
          lastX = null;
          document.addEventListener("dragover", trackPointer, true);
          document.addEventListener("pointermove", trackPointer, true);
        },
        onEnd: function (evt) {
          if (kind === "step") return stepDropped(el, evt);
          if (evt.oldIndex === evt.newIndex) return;
          var ids = Array.prototype.map.call(el.querySelectorAll(":scope > [data-id]"), function (n) {
            return n.dataset.id;
          });
          post(grid().dataset.stageReorderUrl, { order: ids.join(",") });
        },
      });
    });
  }

  // --- cards: a handle and ↑ ↓ buttons (added here, not in the page), a sortable per cell --
  function moveButton(card, direction, disabled) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "icon-button";
    button.dataset.cardMove = direction;
    button.textContent = direction === "up" ? "\u2191" : "\u2193";
    button.setAttribute("aria-label", "Move " + card.label + " " + direction);
    button.disabled = disabled;
    return button;
  }

  function initCards(root) {
    root.querySelectorAll("tr.lane td article.card-item").forEach(function (article) {
      if (article.dataset.id) return;
      var card = cardOf(article);
      if (!card) return;
      article.dataset.id = card.id;
      var actions = article.querySelector(".card-actions");
      var handle = document.createElement("span");
      handle.className = "drag-handle";
      handle.setAttribute("aria-hidden", "true");
      handle.title = "Drag to reorder";
      handle.textContent = "\u283F";
      var cards = article.parentElement.querySelectorAll(":scope > article.card-item");
      var first = cards[0] === article, last = cards[cards.length - 1] === article;
      actions.prepend(handle);
      actions.append(moveButton(card, "up", first), moveButton(card, "down", last));
    });
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll("tr.lane td").forEach(function (cell) {
      if (cell.dataset.sortableReady || !cell.querySelector(":scope > article[data-id]")) return;
      cell.dataset.sortableReady = "1";
      Sortable.create(cell, {
        animation: 150,
        handle: ".drag-handle",
        draggable: "article[data-id]",
        onEnd: function (evt) {
          if (evt.oldIndex === evt.newIndex) return;
          var card = cardOf(evt.item);
          var ids = Array.prototype.map.call(cell.querySelectorAll(":scope > article[data-id]"), function (n) {
            return n.dataset.id;
          });
          post(card.url, { order: ids.join(","), moved: card.id });
        },
      });
    });
  }

  // Each card's delete button, next to its edit link: cloned from the grid's one
  // <template>, posting to the edit URL + "delete/" (maps/urls.py: item-edit, item-delete).
  function addDeleteButtons(root) {
    var template = document.getElementById("delete-button");
    if (!template) return;
    root.querySelectorAll("article .card-actions > a[data-panel]").forEach(function (edit) {
      var next = edit.nextElementSibling;
      if (next && next.classList.contains("icon-danger")) return;
      var button = template.content.firstElementChild.cloneNode(true);
      button.setAttribute("formaction", edit.getAttribute("href").split("?")[0] + "delete/");
      button.setAttribute("aria-label", edit.getAttribute("aria-label").replace(/^Edit /, "Delete "));
      edit.after(button);
    });
  }

  function clearPanel() {
    var panel = document.getElementById("editor-panel");
    if (panel) panel.innerHTML = "";
  }

  // After a move, focus the same button of the moved item (or, at the end of its row, the
  // other one, or its handle): keyboard users keep their place instead of landing on <body>.
  function moveFocus(button) {
    var card = button.dataset.cardMove && button.closest("article");
    if (card) {
      var sel = "article[data-id='" + card.dataset.id + "'] ";
      return [sel + "[data-card-move=" + button.dataset.cardMove + "]:enabled",
        sel + "[data-card-move]:enabled", sel + ".card-actions a[data-panel]"];
    }
    var same = "button[form='" + button.getAttribute("form") + "'][value='" + button.value + "']";
    return [same + "[name=" + button.name + "]:enabled", same + ":enabled"];
  }

  // The grid's controls are plain links, and buttons of its hidden forms "grid-post" (delete,
  // with a formaction) and "step-move"/"stage-move" (they work without JavaScript); here
  // they become htmx requests: data-panel and add links open in the editor panel, delete
  // and move buttons post and swap the grid.
  function sendControl(event) {
    var cardMove = event.target.closest("button[data-card-move]");
    if (cardMove) {
      event.preventDefault();
      var card = cardOf(cardMove.closest("article"));
      if (cardMove.disabled || !card) return true;
      var values = {};
      values[cardMove.dataset.cardMove] = card.id;
      post(card.url, values, moveFocus(cardMove));
      return true;
    }
    var button = event.target.closest("button[form=grid-post], button[form$=-move]");
    if (button) {
      event.preventDefault();
      if (button.disabled) return true;
      if (button.classList.contains("icon-danger")) {
        var label = (button.getAttribute("aria-label") || "").replace(/^Delete /, "");
        if (!window.confirm("Delete \u201c" + label + "\u201d?")) return true;
      }
      var data = {};
      if (button.name) data[button.name] = button.value;
      var isMove = /-move$/.test(button.getAttribute("form") || "");
      post(button.getAttribute("formaction") || button.form.getAttribute("action"), data,
        isMove ? moveFocus(button) : null);
      return true;
    }
    var link = event.target.closest("a[data-panel], a.add-button");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return false;
    }
    event.preventDefault();
    htmx.ajax("GET", link.getAttribute("href"), { target: "#editor-panel" });
    return true;
  }

  document.addEventListener("click", function (event) {
    if (sendControl(event)) return;
    var close = event.target.closest("[data-close-panel]");
    if (close && document.getElementById("editor-panel").contains(close)) {
      event.preventDefault();
      clearPanel();
    }
  });

  // Alt + arrow keys on any control of a step or card press its move button.
  var ARROWS = { ArrowLeft: "left", ArrowRight: "right", ArrowUp: "up", ArrowDown: "down" };
  function shortcut(event) {
    var direction = ARROWS[event.key];
    if (!direction || !event.altKey || !grid() || !grid().contains(event.target)) return;
    var article = event.target.closest("article[data-id]");
    var head = event.target.closest("th.step-head");
    var button = article ? article.querySelector("[data-card-move=" + direction + "]")
      : head ? head.querySelector("button[form=step-move][name=" + direction + "]") : null;
    if (!button) return;
    event.preventDefault();
    if (!button.disabled) button.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.querySelector("#editor-panel .editor-panel")) {
      clearPanel();
    }
    shortcut(event);
  });

  // A refused move (400, 409) comes back with the grid as it is and the reason: show both.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if ((status === 400 || status === 409) && event.detail.target && event.detail.target.id === "map-grid") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "editor-panel") {
      var first = target.querySelector(".editor-panel input:not([type=hidden]), .editor-panel select, .editor-panel textarea");
      if (first) first.focus();
      target.scrollIntoView({ block: "nearest" });
    }
    initSortables(document);
    addDeleteButtons(document);
    initCards(document);
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (pendingFocus) {
      for (var i = 0; i < pendingFocus.length; i++) {
        var el = document.querySelector(pendingFocus[i]);
        if (el) {
          el.focus();
          break;
        }
      }
      pendingFocus = null;
    }
    if (announce) {
      // The status line came in as a new element: set its text again so the live region
      // (present now) announces it.
      announce = false;
      var status = document.getElementById("editor-status");
      var line = status && status.querySelector(".status-line");
      if (line) {
        var text = line.textContent;
        line.textContent = "";
        window.requestAnimationFrame(function () { line.textContent = text; });
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    initSortables(document);
    addDeleteButtons(document);
    initCards(document);
  });
})();
