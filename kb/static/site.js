/* The help center's only script; every page works without it.
 * - Replaces the plain contact form with the widget (answers while the customer types),
 *   carrying over what was already typed.
 * - In `kb preview`, reloads the page when an article file is saved. */
(function () {
  "use strict";

  function startWidget() {
    var box = document.getElementById("kb-contact");
    if (!box) return;
    var plain = box.querySelector("form");
    var typed = plain ? plain.querySelector("textarea").value : "";
    var script = document.createElement("script");
    script.src = box.getAttribute("data-widget");
    script.onload = function () {
      if (!window.DriftboxHelp) return;
      window.DriftboxHelp.init({endpoint: box.getAttribute("data-endpoint"),
                                lang: box.getAttribute("data-lang"), container: box});
      if (plain) plain.classList.add("kb-replaced");
      if (typed) carryOver(box, typed);
    };
    document.head.appendChild(script);
  }

  // The widget builds its form once its UI text has arrived; the question goes in then.
  function carryOver(box, typed) {
    var tries = 0;
    var timer = setInterval(function () {
      var host = box.lastElementChild;
      var message = host && host.shadowRoot && host.shadowRoot.querySelector("#kb-message");
      if (message || ++tries > 50) clearInterval(timer);
      if (message && !message.value) {
        message.value = typed;
        message.dispatchEvent(new Event("input", {bubbles: true}));
      }
    }, 100);
  }

  function followPreview() {
    var meta = document.querySelector("meta[name=kb-preview]");
    if (!meta) return;
    var version = meta.getAttribute("data-version");
    setInterval(function () {
      fetch(meta.getAttribute("content"), {cache: "no-store"})
        .then(function (r) { return r.ok ? r.text() : version; })
        .then(function (now) { if (now !== version) window.location.reload(); })
        .catch(function () {});
    }, 1000);
  }

  startWidget();
  followPreview();
})();
