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
      head.appendChild(link);
    });
  }
  // Every card too (pain points, insights and the other lane items, KPIs, projects): its
  // kind and id from what the card already carries (the edit link for editors, data-id
  // and the lane for readers, the project's link), so the page gains no bytes per card.
  var LANE_KINDS = {
    customer_pain_points: "painpoint", employee_pain_points: "painpoint", insights: "laneitem",
    opportunities: "laneitem", research: "laneitem", ideas: "laneitem", kpis: "kpi",
  };
  function targetOf(card) {
    var edit = card.querySelector(".card-actions a[data-panel]");
    var match = edit && /(?:^|\/)edit\/(painpoint|laneitem|kpi)\/(\d+)\//.exec(edit.getAttribute("href"));
    if (match) return match[1] + "/" + match[2];
    var project = card.classList.contains("project-card") && card.querySelector("h3 a");
    match = project && /\/projects\/(\d+)\//.exec(project.getAttribute("href"));
    if (match) return "project/" + match[1];
    var lane = /(?:^| )lane-(\w+)/.exec(card.closest("tr").className);
    var kind = lane && LANE_KINDS[lane[1]];
    return kind && card.dataset.id ? kind + "/" + card.dataset.id : null;
  }
  function addCardLinks(root) {
    if (!dialog()) return;
    root.querySelectorAll("#map-grid tr.lane article.card-item").forEach(function (card) {
      if (card.querySelector("a[data-comments]")) return;
      var target = targetOf(card);
      if (!target) return;
      var heading = card.querySelector("h3");
      var link = document.createElement("a");
      link.className = "comment-count";
      link.href = "comments/on/" + target + "/";
      link.setAttribute("data-comments", "");
      link.setAttribute("aria-label", "Comment on " + (heading ? heading.textContent.trim() : "this card"));
      (card.querySelector(".card-actions") || card).appendChild(link);
    });
  }
  function addLinks() { addStepLinks(document); addCardLinks(document); }
  document.addEventListener("DOMContentLoaded", addLinks);
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "map-grid" || event.detail.elt.id === "map-grid") addLinks();
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
