/* Driftbox Help widget: suggests answers while a customer writes to support.
 *
 * Embed: <script async src="https://help.example.com/widget/kb-widget.js"
 *                data-endpoint="https://help.example.com" data-lang="sv"
 *                data-container="#support" data-theme="light"></script>
 * JS API: DriftboxHelp.init(config) -> {open, close, destroy, setLocale}
 *
 * No dependencies, no eval, no inline styles: works under a strict Content-Security-Policy.
 * Text from the API is inserted as text; only the sanitized article body is inserted as HTML.
 */
(function () {
  "use strict";

  var LANGS = ["en", "sv", "ru"];
  var DRAFT_MS = 24 * 3600 * 1000;
  var PREFIX = "[driftbox-help]";
  var script = document.currentScript;
  var assetBase = script && script.src ? script.src.replace(/\/[^\/]*$/, "") : "";

  function pickLang(wanted) {
    var candidates = [wanted, document.documentElement.lang].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < candidates.length; i++) {
      var code = String(candidates[i] || "").toLowerCase().split(/[-_]/)[0];
      if (LANGS.indexOf(code) >= 0) return code;
    }
    return "en";
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (attrs[key] === true) node.setAttribute(key, "");
      else if (attrs[key] !== false && attrs[key] != null) node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function format(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (m, name) {
      return values && name in values ? values[name] : m;
    });
  }

  // Cut text to a length without splitting a surrogate pair: half an emoji is not a character
  // and the server refuses it.
  function clipEnd(text, max) {
    var end = Math.min(text.length, max), code = text.charCodeAt(end - 1);
    return text.slice(0, end < text.length && code >= 0xd800 && code <= 0xdbff ? end - 1 : end);
  }
  function clipStart(text, max) {
    var start = Math.max(0, text.length - max), code = text.charCodeAt(start);
    return text.slice(start > 0 && code >= 0xdc00 && code <= 0xdfff ? start + 1 : start);
  }

  function uid() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function init(config) {
    config = config || {};
    var endpoint = String(config.endpoint || "").replace(/\/+$/, "");
    if (!endpoint) {
      console.error(PREFIX + " missing endpoint: add data-endpoint=\"https://your-help-server\" to the script tag, or pass {endpoint: ...} to DriftboxHelp.init");
      return null;
    }
    var container = config.container;
    if (typeof container === "string") {
      var found = document.querySelector(container);
      if (!found) {
        console.error(PREFIX + " container not found: no element matches \"" + container + "\"");
        return null;
      }
      container = found;
    }
    var api = endpoint + "/api/v1";
    var assets = config.assets || assetBase || endpoint + "/widget";
    var draftKey = "kb-draft:" + endpoint;
    // A question the host page already has (the help center's "nothing matched" page passes the
    // customer's search): it goes into the message field.
    var carried = typeof config.message === "string" && config.message.trim() ? config.message : null;
    var lang = pickLang(config.lang);
    var catalog = {};
    // One anonymous visitor across reloads and visits (no cookie), so a ticket sent later can
    // cancel an earlier "Yes, solved"; the session and what it showed survive a reload of the tab.
    var visitor = stored("localStorage", "kb-visitor:" + endpoint, uid());
    var sessionKey = "kb-session:" + endpoint;
    var saved = stored("sessionStorage", sessionKey, null) || {};
    var session = typeof saved.id === "string" && saved.id || uid();
    var shown = Array.isArray(saved.shown) ? saved.shown : [], opened = Array.isArray(saved.opened) ? saved.opened : [], current = null, lastFocus = null, timer = null, pending = null;
    var startedTicket = false, replyHours = config.replyHours || 24, retryPending = false, retryTimer = null;

    var host = el("div", {"class": "kb-host", "data-theme": config.theme || "light"});
    if (container) container.appendChild(host);
    else if (script && script.parentNode) script.parentNode.insertBefore(host, script.nextSibling);
    else document.body.appendChild(host);
    var root = host.attachShadow ? host.attachShadow({mode: "open"}) : host;

    function _(text) {
      var entry = catalog[text];
      return typeof entry === "string" && entry ? entry : text;
    }
    function ngettext(singular, plural, n) {
      var entry = catalog[singular];
      if (entry && typeof entry === "object") {
        var category = window.Intl && Intl.PluralRules ? new Intl.PluralRules(lang).select(n) : (n === 1 ? "one" : "other");
        var text = entry[category] || entry.other || entry.many;
        if (text) return format(text, {num: n});
      }
      return format(n === 1 ? singular : plural, {num: n});
    }
    function languageName(code) {
      try { return new Intl.DisplayNames([lang], {type: "language"}).of(code); } catch (e) { return code; }
    }

    function stored(area, key, fallback) {
      try {
        var storage = window[area]; // reading it throws where storage is blocked
        var value = JSON.parse(storage.getItem(key) || "null");
        if (value !== null) return value;
        if (fallback !== null) storage.setItem(key, JSON.stringify(fallback));
      } catch (e) { /* storage blocked: this page view only */ }
      return fallback;
    }
    function saveSession() {
      try { sessionStorage.setItem(sessionKey, JSON.stringify({id: session, shown: shown.slice(0, 50), opened: opened.slice(0, 50)})); } catch (e) { /* storage blocked */ }
    }

    function send(path, body) {
      return fetch(api + path, {method: "POST", headers: {"Content-Type": "application/json"},
                                body: JSON.stringify(body), keepalive: true});
    }
    // A request the browser blocks looks like being offline. If the server answers a request
    // that needs no permission, the page's origin is simply not allowed: say what to set, once.
    var blockedCheck = null;
    function originBlocked() {
      if (!blockedCheck) {
        blockedCheck = fetch(api + "/health", {mode: "no-cors", cache: "no-store"})
          .then(function () {
            console.error(PREFIX + " the help server at " + endpoint + " does not allow this page's origin (" +
                          location.origin + "), so no suggestions and no tickets can be sent from it: add it to the " +
                          "server's KB_CORS_ORIGINS setting, e.g. KB_CORS_ORIGINS=" + location.origin);
            return true;
          }, function () { blockedCheck = null; return false; });
      }
      return blockedCheck;
    }
    function track(type, extra) {
      var body = {type: type, session_id: session, visitor_id: visitor, lang: lang};
      Object.keys(extra || {}).forEach(function (k) { body[k] = extra[k]; });
      send("/events", body).catch(function () {});
    }

    var ui = {};
    function build() {
      root.textContent = "";
      root.appendChild(el("link", {rel: "stylesheet", href: assets + "/kb-widget.css"}));
      ui.email = el("input", {type: "email", name: "email", id: "kb-email", required: true, autocomplete: "email", maxlength: "320"});
      ui.subject = el("input", {type: "text", name: "subject", id: "kb-subject", required: true, maxlength: "300"});
      ui.message = el("textarea", {name: "message", id: "kb-message", required: true, rows: "5", maxlength: "5000"});
      ui.website = el("input", {type: "text", name: "website", tabindex: "-1", autocomplete: "off", "aria-hidden": "true", "class": "kb-hp"});
      ui.live = el("p", {"class": "kb-live", "aria-live": "polite", role: "status"});
      ui.list = el("ul", {"class": "kb-list"});
      ui.repaired = el("p", {"class": "kb-repaired", hidden: true});
      ui.suggest = el("section", {"class": "kb-suggest", hidden: true, "aria-labelledby": "kb-suggest-title"}, [
        el("h3", {id: "kb-suggest-title", text: _("Answers that might help")}), ui.repaired, ui.list]);
      ui.status = el("p", {"class": "kb-status", role: "alert"});
      ui.submit = el("button", {type: "submit", "class": "kb-primary", text: _("Send to support")});
      ui.form = el("form", {"class": "kb-form", novalidate: true}, [
        el("h2", {"class": "kb-title", text: _("Contact support")}),
        el("p", {"class": "kb-intro", text: _("Tell us what is wrong. While you type, we suggest answers that may solve it right away.")}),
        field("kb-email", _("Your email"), ui.email),
        field("kb-subject", _("Subject"), ui.subject),
        field("kb-message", _("What happened?"), ui.message),
        ui.website, ui.live, ui.suggest, ui.status, ui.submit]);
      ui.articleTitle = el("h2", {id: "kb-article-title", tabindex: "-1"});
      ui.articleLabel = el("p", {"class": "kb-label", hidden: true});
      ui.articleBody = el("div", {"class": "kb-body"});
      ui.yes = el("button", {type: "button", "class": "kb-primary", text: _("Yes, problem solved")});
      ui.no = el("button", {type: "button", text: _("No, I still need help")});
      ui.article = el("div", {"class": "kb-article", hidden: true, role: "region", "aria-labelledby": "kb-article-title"}, [
        el("button", {type: "button", "class": "kb-back", text: _("Back to the form")}),
        ui.articleTitle, ui.articleLabel, ui.articleBody,
        el("p", {"class": "kb-ask", text: _("Did this solve your problem?")}), ui.yes, ui.no]);
      ui.done = el("div", {"class": "kb-done", hidden: true, tabindex: "-1", role: "status"});
      ui.panel = el("div", {"class": "kb", lang: lang}, [ui.form, ui.article, ui.done]);
      root.appendChild(ui.panel);

      ui.form.addEventListener("input", onInput);
      ui.form.addEventListener("submit", onSubmit);
      ui.article.querySelector(".kb-back").addEventListener("click", closeArticle);
      ui.yes.addEventListener("click", function () { answer(true); });
      ui.no.addEventListener("click", function () { answer(false); });
      ui.panel.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && !ui.article.hidden) { event.preventDefault(); closeArticle(); }
      });
      ui.articleBody.addEventListener("click", function (event) {
        var link = event.target.closest && event.target.closest("a[data-kb-slug]");
        // In the reader's language where a version exists (the server falls back), not in the
        // language of the article the link stands in: an English answer read on a Russian page
        // leads on to Russian articles, as the help-center pages do.
        if (link) { event.preventDefault(); openArticle({slug: link.getAttribute("data-kb-slug"), lang: lang}); }
      });
      restoreDraft();
      if (carried !== null) {
        // The question the page hands over is newer than any saved draft, so it wins; once only,
        // so a rebuild for another language keeps what the customer has typed since.
        ui.message.value = carried;
        carried = null;
        saveDraft();
        suggestSoon();
      }
    }

    function field(id, label, input) {
      input.kbError = el("p", {id: id + "-error", "class": "kb-error", hidden: true});
      return el("div", {"class": "kb-field"}, [el("label", {"for": id, text: label}), input, input.kbError]);
    }
    function describeError(input, message) {
      input.setAttribute("aria-invalid", String(!!message));
      input.kbError.textContent = message || "";
      input.kbError.hidden = !message;
      if (message) input.setAttribute("aria-describedby", input.kbError.id);
      else input.removeAttribute("aria-describedby");
    }

    function draft() {
      return {email: ui.email.value, subject: ui.subject.value, message: ui.message.value, savedAt: Date.now()};
    }
    function clearDraft() {
      try { localStorage.removeItem(draftKey); } catch (e) { /* storage blocked */ }
    }
    function saveDraft() {
      try { localStorage.setItem(draftKey, JSON.stringify(draft())); } catch (e) { /* storage blocked */ }
    }
    function restoreDraft() {
      try {
        var saved = JSON.parse(localStorage.getItem(draftKey) || "null");
        // A day-old draft is someone else's on a shared computer, or forgotten: start empty.
        if (saved && !(Date.now() - saved.savedAt < DRAFT_MS)) { clearDraft(); saved = null; }
        if (saved) {
          ui.email.value = saved.email || ""; ui.subject.value = saved.subject || ""; ui.message.value = saved.message || "";
          if (ui.subject.value || ui.message.value) suggestSoon();
        }
      } catch (e) { /* nothing saved */ }
    }

    function onInput(event) {
      if (event.target === ui.website) return;
      saveDraft();
      if (!startedTicket) { startedTicket = true; track("ticket_started"); }
      if (event.target === ui.subject || event.target === ui.message) suggestSoon();
    }
    function suggestSoon() {
      clearTimeout(timer);
      timer = setTimeout(suggest, 350);
    }
    function suggest() {
      var text = clipStart((ui.subject.value + " " + ui.message.value).trim(), 400);
      if (text.length < 4) { renderSuggestions([]); return; }
      if (pending) pending.abort();
      pending = window.AbortController ? new AbortController() : null;
      fetch(api + "/search?" + new URLSearchParams({q: text, hint: lang, limit: "3", session_id: session}),
            {signal: pending ? pending.signal : undefined})
        .then(function (r) { return r.ok ? r.json() : {results: []}; })
        .then(function (data) { renderSuggestions(data.results || [], data.repaired_query); })
        .catch(function (error) {
          // Suggestions are optional: the form always works. A blocked origin is still reported.
          if (!error || error.name !== "AbortError") originBlocked();
        });
    }
    function renderSuggestions(results, repairedQuery) {
      ui.list.textContent = "";
      // Russian typed on an English keyboard layout or in Latin letters was read as Russian:
      // say what was searched, so the customer sees why the answers fit.
      ui.repaired.hidden = !(repairedQuery && results.length);
      ui.repaired.textContent = ui.repaired.hidden ? "" : format(_("Showing results for: %(query)s"), {query: repairedQuery});
      results.slice(0, 3).forEach(function (result) {
        if (shown.indexOf(result.id) < 0) { shown.push(result.id); saveSession(); }
        // The answer's own words in its language; the label, in the customer's, stays in theirs.
        var textLang = result.fallback ? result.lang : null;
        var button = el("button", {type: "button", "class": "kb-suggestion"}, [
          el("strong", {text: result.title, lang: textLang}),
          result.fallback ? el("span", {"class": "kb-label", text: format(_("In %(language)s"), {language: languageName(result.lang)})}) : null,
          el("span", {"class": "kb-summary", text: result.summary, lang: textLang})]);
        button.addEventListener("click", function () { lastFocus = button; openArticle(result); });
        ui.list.appendChild(el("li", {}, [button]));
      });
      ui.suggest.hidden = results.length === 0;
      ui.live.textContent = results.length ? ngettext("%(num)s suggested answer", "%(num)s suggested answers", Math.min(results.length, 3)) : "";
      if (results.length) track("suggestions_shown", {data: {ids: results.slice(0, 3).map(function (r) { return r.id; })}});
    }

    function openArticle(result) {
      fetch(api + "/articles/" + encodeURIComponent(result.slug) + "?lang=" + encodeURIComponent(result.lang || lang))
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (article) {
          current = article;
          if (opened.indexOf(article.id) < 0) { opened.push(article.id); saveSession(); }
          ui.articleTitle.textContent = article.title;
          [ui.articleTitle, ui.articleBody].forEach(function (node) {
            if (article.lang === lang) node.removeAttribute("lang"); else node.setAttribute("lang", article.lang);
          });
          ui.articleLabel.hidden = article.lang === lang;
          ui.articleLabel.textContent = format(_("This answer is in %(language)s."), {language: languageName(article.lang)});
          ui.articleBody.innerHTML = article.html; // sanitized on the server (allow-list)
          demoteHeadings(ui.articleBody);
          ui.form.hidden = true; ui.done.hidden = true; ui.article.hidden = false;
          ui.articleTitle.focus();
          track("article_opened", {article_id: article.id});
        })
        .catch(function () { ui.status.textContent = _("Sorry, this answer could not be loaded."); });
    }
    // The article's headings start at h2 in its HTML; here they sit under its title (an h2),
    // so screen-reader users get an outline without a jump.
    function demoteHeadings(container) {
      Array.prototype.forEach.call(container.querySelectorAll("h2, h3, h4, h5"), function (heading) {
        var lower = document.createElement("h" + (Number(heading.tagName.charAt(1)) + 1));
        if (heading.id) lower.id = heading.id;
        while (heading.firstChild) lower.appendChild(heading.firstChild);
        heading.parentNode.replaceChild(lower, heading);
      });
    }
    function closeArticle() {
      ui.article.hidden = true; ui.form.hidden = false;
      (lastFocus && lastFocus.isConnected ? lastFocus : ui.message).focus();
    }
    function answer(helpful) {
      if (!current) return;
      send("/feedback", {article_id: current.id, helpful: helpful, session_id: session,
                         query: clipEnd((ui.subject.value + " " + ui.message.value).trim(), 500) || null}).catch(function () {});
      if (helpful) {
        // The email (kept by the service only as a salted hash) lets a later ticket cancel this.
        track("deflected", {article_id: current.id, email: ui.email.checkValidity() && ui.email.value.trim() || null});
        clearDraft();
        ui.article.hidden = true; ui.done.hidden = false;
        ui.done.textContent = "";
        ui.done.appendChild(el("p", {text: _("Great, we are glad it helped! You do not need to send a message.")}));
        var back = el("button", {type: "button", text: _("I still want to contact support")});
        back.addEventListener("click", function () { ui.done.hidden = true; ui.form.hidden = false; ui.message.focus(); });
        ui.done.appendChild(back);
        ui.done.focus();
      } else {
        track("not_helpful", {article_id: current.id});
        closeArticle();
      }
    }

    function onSubmit(event) {
      event.preventDefault();
      ui.status.textContent = "";
      var invalid = [ui.email, ui.subject, ui.message].filter(function (input) { return !input.checkValidity(); });
      [ui.email, ui.subject, ui.message].forEach(function (input) {
        describeError(input, invalid.indexOf(input) < 0 ? null :
          input === ui.email ? _("Please enter a valid email address.") : _("Please fill in the subject and the message."));
      });
      if (invalid.length) {
        ui.status.textContent = invalid[0].kbError.textContent;
        invalid[0].focus();
        return;
      }
      ui.submit.disabled = true;
      var body = {email: ui.email.value.trim(), subject: ui.subject.value.trim(), message: ui.message.value.trim(),
                  lang: lang, page_url: String(location.href).slice(0, 2000), session_id: session, visitor_id: visitor,
                  suggestions_shown: shown.slice(0, 50), suggestions_opened: opened.slice(0, 50), website: ui.website.value};
      send("/tickets", body).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) { return {ok: r.ok, status: r.status, data: data}; });
      }).then(function (result) {
        ui.submit.disabled = false;
        if (!result.ok) { failed(result.status, result.data); return; }
        clearDraft();
        track("ticket_sent");
        var hours = (result.data && result.data.reply_within_hours) || replyHours;
        ui.form.reset(); ui.form.hidden = true; ui.done.hidden = false; ui.done.textContent = "";
        ui.done.appendChild(el("p", {text: _("Thank you! Your message has been sent.")}));
        ui.done.appendChild(el("p", {text: ngettext("We will answer within %(num)s hour.", "We will answer within %(num)s hours.", hours)}));
        ui.done.focus();
      }).catch(function () {
        originBlocked().then(function (blocked) { ui.submit.disabled = false; failed(blocked ? -1 : 0, null); });
      });
    }
    function failed(status, data) {
      saveDraft();
      if (status === 400 && data && data.error) {
        ui.status.textContent = _("Please check the form: something is missing or too long.");
      } else if (status === -1) {
        // Retrying cannot help until the site owner allows this page: say so instead.
        ui.status.textContent = _("This page cannot reach our support system, so your message was not sent. It is saved on this device; please contact us another way.");
      } else {
        ui.status.textContent = _("We could not send your message. It is saved on this device; please try again in a moment.");
        if (!retryPending) {
          retryPending = true;
          var retry = function () {
            window.removeEventListener("online", retry); clearTimeout(retryTimer); retryPending = false;
            if (ui.form.isConnected && !ui.form.hidden && ui.form.requestSubmit) ui.form.requestSubmit();
          };
          window.addEventListener("online", retry);
          retryTimer = setTimeout(retry, 30000);
        }
      }
    }

    function loadCatalog(code) {
      if (code === "en") { catalog = {}; return Promise.resolve(); }
      return fetch(assets + "/i18n/" + code + ".json")
        .then(function (r) { return r.ok ? r.json() : {messages: {}}; })
        .then(function (data) { catalog = data.messages || {}; })
        .catch(function () { catalog = {}; });
    }

    var instance = {
      open: function () { host.hidden = false; track("widget_opened"); },
      close: function () { host.hidden = true; },
      destroy: function () { clearTimeout(timer); if (pending) pending.abort(); host.remove(); },
      setLocale: function (code) {
        saveDraft();
        lang = pickLang(code);
        return loadCatalog(lang).then(build);
      }
    };
    loadCatalog(lang).then(function () { build(); track("widget_opened"); });
    return instance;
  }

  var global = window.DriftboxHelp = window.DriftboxHelp || {};
  global.init = init;
  // A script tag with data-* attributes configures itself; without them, call DriftboxHelp.init.
  var configured = script && Array.prototype.some.call(script.attributes, function (a) { return a.name.indexOf("data-") === 0; });
  if (configured) {
    global.instance = init({
      endpoint: script.getAttribute("data-endpoint"),
      lang: script.getAttribute("data-lang"),
      container: script.getAttribute("data-container"),
      theme: script.getAttribute("data-theme")
    });
  }
})();
