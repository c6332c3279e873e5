/* Map editor behaviour: drag-and-drop reordering (SortableJS), focus management and
   closing the editor panel. Everything else is htmx attributes in the templates. */
(function () {
  "use strict";

  function grid() { return document.getElementById("map-grid"); }

  function postOrder(kind, ids) {
    var g = grid();
    var url = kind === "stage" ? g.dataset.stageReorderUrl : g.dataset.reorderUrl;
    htmx.ajax("POST", url, {
      target: "#map-grid",
      swap: "outerHTML",
      values: { order: ids.join(","), map_version: g.dataset.mapVersion },
    });
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
        onEnd: function (evt) {
          if (evt.oldIndex === evt.newIndex) return;
          var ids = Array.prototype.map.call(el.querySelectorAll(":scope > [data-id]"), function (n) {
            return n.dataset.id;
          });
          postOrder(kind, ids);
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

  // The grid's controls are plain links, and buttons of its hidden forms "grid-post" (delete,
  // with a formaction) and "step-move"/"stage-move" (they work without JavaScript); here
  // they become htmx requests: data-panel and add links open in the editor panel, delete
  // and move buttons post and swap the grid.
  function sendControl(event) {
    var button = event.target.closest("button[form=grid-post], button[form$=-move]");
    if (button) {
      event.preventDefault();
      if (button.disabled) return true;
      if (button.classList.contains("icon-danger")) {
        var label = (button.getAttribute("aria-label") || "").replace(/^Delete /, "");
        if (!window.confirm("Delete \u201c" + label + "\u201d?")) return true;
      }
      var values = { map_version: grid().dataset.mapVersion };
      if (button.name) values[button.name] = button.value;
      htmx.ajax("POST", button.getAttribute("formaction") || button.form.getAttribute("action"), {
        target: "#map-grid", swap: "outerHTML", values: values,
      });
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

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.querySelector("#editor-panel .editor-panel")) {
      clearPanel();
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
  });

  document.addEventListener("DOMContentLoaded", function () {
    initSortables(document);
    addDeleteButtons(document);
  });
})();
