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

  function clearPanel() {
    var panel = document.getElementById("editor-panel");
    if (panel) panel.innerHTML = "";
  }

  document.addEventListener("click", function (event) {
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
  });

  document.addEventListener("DOMContentLoaded", function () { initSortables(document); });
})();
