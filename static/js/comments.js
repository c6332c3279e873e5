// The map page's discussion dialog: htmx puts an item's threads into it, this opens it
// (showModal keeps focus inside and Escape closes it) and closes it on "Close".
(function () {
  "use strict";
  function dialog() { return document.getElementById("comment-dialog"); }
  document.addEventListener("htmx:afterSwap", function (event) {
    var d = dialog();
    if (!d || event.detail.target.id !== "comment-dialog-body") return;
    if (!d.open) d.showModal();
    var field = d.querySelector("textarea");
    if (field) field.focus();
  });
  // a refused comment (400) comes back with the form and its message: show it
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 400 && event.detail.target.closest(".comment-discussion, #comment-dialog-body")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // Every step can start a thread: the server writes "💬 n" only where there are comments
  // (a link on each of hundreds of cards would weigh tens of KB), this adds the others.
  function addStepLinks(root) {
    if (!dialog()) return;  // pages without the discussion (print, share links)
    root.querySelectorAll("th.step-head[data-id]").forEach(function (head) {
      if (head.querySelector("a[data-comments]")) return;
      var link = document.createElement("a");
      link.className = "comment-count";
      link.href = "comments/on/step/" + head.dataset.id + "/";
      link.setAttribute("data-comments", "");
      link.setAttribute("aria-label", "Comment on this step");
      link.textContent = "💬";
      head.appendChild(link);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { addStepLinks(document); });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "map-grid" || event.detail.elt.id === "map-grid") addStepLinks(document);
  });
  // a card's "💬 n" link: its threads in the dialog (a plain page without htmx)
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-comments]");
    if (!link || !window.htmx || !document.getElementById("comment-dialog-body")) return;
    event.preventDefault();
    window.htmx.ajax("GET", link.href, { target: "#comment-dialog-body", swap: "innerHTML" });
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-close-dialog]")) {
      var d = dialog();
      if (d && d.open) d.close();
    }
  });
})();
