/* The portfolio's map picker: the "Journey (and below)" text box becomes an ARIA 1.2
   combobox whose listbox holds the lifecycles and journeys the reader may see whose title
   holds what was typed (GET data-source?q=, at most 20; governance.views_portfolio.
   portfolio_map_choices). Arrows move through the options, Enter picks one, Escape
   closes the list (and, closed, empties the box); the picked map's slug goes in the form's
   hidden "map" field, which filters as ?map=<slug> always has. Without this script the
   box sends the typed text as "map_name" and the server resolves it. */
(function () {
  "use strict";

  var DELAY_MS = 150;

  function setUp(root) {
    var input = root.querySelector("input[name=map_name]");
    var hidden = root.querySelector("input[name=map]");
    var source = root.getAttribute("data-source");
    if (!input || !hidden || !source) return;
    var listId = input.id + "_list";
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "map-picker-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Matching journeys");
    list.hidden = true;
    root.appendChild(list);
    var status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    root.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);

    // what the box showed when the page came: the chosen map's title goes with its slug
    var picked = hidden.value ? { slug: hidden.value, title: input.value } : null;
    var options = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function open() {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var items = list.querySelectorAll("[role=option]");
      for (var i = 0; i < items.length; i++) {
        items[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index < 0) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      input.setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      var option = options[index];
      if (!option) return;
      picked = { slug: option.slug, title: option.title };
      input.value = option.title;
      hidden.value = option.slug;
      close();
      status.textContent = option.title + " chosen; Filter to apply it.";
    }

    function note(text) {
      var li = document.createElement("li");
      li.className = "map-picker-note";
      li.textContent = text;
      list.appendChild(li);
    }

    function show(body) {
      options = body.results;
      list.textContent = "";
      options.forEach(function (option, i) {
        var li = document.createElement("li");
        li.id = listId + "_" + i;
        li.className = "map-picker-option" + (option.level > 0 ? " is-journey" : "");
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = option.title;
        if (option.parent) {
          var parent = document.createElement("span");
          parent.className = "map-picker-parent";
          parent.textContent = "in " + option.parent;
          li.appendChild(parent);
        }
        // mousedown, not click: the box keeps the focus (its blur would close the list)
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(i);
        });
        list.appendChild(li);
      });
      if (!options.length) note("No journey you can see matches.");
      else if (body.more) note("More match: type more of the title.");
      status.textContent = options.length
        ? options.length + (body.more ? "+" : "") + " journeys match; arrows to choose."
        : "No journey matches.";
      active = -1;
      open();
    }

    function ask(then) {
      var number = ++asked;
      var url = source + "?q=" + encodeURIComponent(input.value.trim());
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (body) {
          if (number !== asked) return; // an answer to older text
          show(body);
          if (then) then();
        })
        .catch(function () {
          if (number !== asked) return;
          list.textContent = "";
          options = [];
          note("Could not load the journeys; type a title and Filter.");
          open();
        });
    }

    input.addEventListener("input", function () {
      // typed text names no map until one is picked (or the server resolves it)
      if (!picked || input.value !== picked.title) hidden.value = "";
      clearTimeout(timer);
      timer = setTimeout(function () { ask(); }, DELAY_MS);
    });

    input.addEventListener("keydown", function (event) {
      var count = options.length;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var down = event.key === "ArrowDown";
        if (list.hidden) {
          ask(function () { if (options.length) highlight(down ? 0 : options.length - 1); });
          return;
        }
        if (!count) return;
        highlight(down ? (active + 1) % count : (active <= 0 ? count : active) - 1);
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0) {
          event.preventDefault(); // pick, not submit
          choose(active);
        }
      } else if (event.key === "Escape") {
        if (!list.hidden) {
          event.preventDefault();
          close();
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
          hidden.value = "";
        }
      } else if (event.key === "Tab") {
        close();
      }
    });

    input.addEventListener("blur", function () { close(); });

    // the picked map goes as ?map=<slug> alone (the links people save and share); typed
    // text that was not picked goes as map_name, which the server resolves
    input.form.addEventListener("submit", function () {
      if (hidden.value && picked && input.value === picked.title) {
        input.removeAttribute("name");
      } else if (!input.value.trim()) {
        input.removeAttribute("name");
        hidden.removeAttribute("name");
      }
    });
    // back to this page from the browser's cache: the fields send again
    window.addEventListener("pageshow", function () {
      input.setAttribute("name", "map_name");
      hidden.setAttribute("name", "map");
    });
  }

  var roots = document.querySelectorAll("[data-map-picker]");
  for (var i = 0; i < roots.length; i++) setUp(roots[i]);
})();
