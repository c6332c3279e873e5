// The Mermaid export page (maps/mermaid.html): the Copy button and the preview drawn by the
// vendored Mermaid. No inline script (CSP); the preview sets data-rendered="ok" or "error".
(function () {
  "use strict";

  function announce(id, text) {
    const status = document.getElementById(id);
    if (status) status.textContent = text;
  }

  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(field.value);
        announce("mermaid-copy-status", "Copied to the clipboard.");
      } catch (error) {
        // No clipboard API (plain http, or permission refused): select the text instead.
        field.focus();
        field.select();
        const copied = document.execCommand && document.execCommand("copy");
        announce(
          "mermaid-copy-status",
          copied ? "Copied to the clipboard." : "Selected: press Ctrl+C (⌘C) to copy."
        );
      }
    });
  });

  const preview = document.getElementById("mermaid-preview");
  if (!preview || !window.mermaid) return;
  const source = document.getElementById(preview.dataset.source).value;
  // drawn at its own size (the card scrolls sideways) rather than shrunk to the card
  window.mermaid.initialize({
    startOnLoad: false,
    securityLevel: "strict",
    journey: { useMaxWidth: false },
  });
  window.mermaid
    .render("mermaid-preview-svg", source)
    .then(({ svg }) => {
      preview.innerHTML = svg; // sanitised by Mermaid (securityLevel "strict")
      preview.dataset.rendered = "ok";
      announce(preview.dataset.status, "This is how a wiki that draws Mermaid shows it.");
    })
    .catch((error) => {
      preview.dataset.rendered = "error";
      announce(preview.dataset.status, "Mermaid could not draw it: " + error.message);
    });
})();
