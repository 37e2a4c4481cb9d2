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
      // The question carried over wins over a draft the widget saved on an earlier visit.
      window.DriftboxHelp.init({endpoint: box.getAttribute("data-endpoint"),
                                lang: box.getAttribute("data-lang"), container: box,
                                message: typed});
      if (plain) plain.classList.add("kb-replaced");
    };
    document.head.appendChild(script);
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
