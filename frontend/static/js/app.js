// Facteur's page behaviour; no inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";

  var THEME_KEY = "facteur-theme";

  function applyTheme(theme) {
    if (theme === "dark" || theme === "light") {
      document.documentElement.setAttribute("data-theme", theme);
    } else {
      document.documentElement.removeAttribute("data-theme");
    }
  }

  applyTheme(localStorage.getItem(THEME_KEY));

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (!toggle) return;
    var dark = document.documentElement.getAttribute("data-theme") === "dark" ||
      (!document.documentElement.getAttribute("data-theme") && window.matchMedia("(prefers-color-scheme: dark)").matches);
    var next = dark ? "light" : "dark";
    localStorage.setItem(THEME_KEY, next);
    applyTheme(next);
  });

  // A select marked data-autosubmit submits its form when changed (structure switcher).
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
  });

  // Forms marked data-confirm ask before an irreversible action.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // htmx leaves 4xx responses unswapped; forms marked data-swap-errors render their own
  // French error (e.g. the message thread), so show it in place.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;  // refused input only; a 403/404 page is not a fragment
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if ((status === 413 || status === 415 || status === 422) && source && source.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Live updates (/events through the htmx SSE extension). Every EventSource the extension
  // opens resumes from the last event seen, as the browser's own reconnection does with
  // Last-Event-ID: at first from the newest event when the page was made (data-live-from),
  // so nothing committed between the page and the stream is missed. The page says when the
  // connection is lost and when it is back.
  var lastEventId = (document.body && document.body.getAttribute("data-live-from")) || null;
  if (window.htmx && htmx.createEventSource) {
    htmx.createEventSource = function (url) {
      var resume = lastEventId ? (url.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + encodeURIComponent(lastEventId) : "";
      var source = new EventSource(url + resume, { withCredentials: true });
      source.addEventListener("changed", function (event) {
        try { lastEventId = String(JSON.parse(event.data).id || lastEventId); } catch (e) { /* not ours */ }
      });
      return source;
    };
  }

  var connectionLost = false, leaving = false, connectionTimer = null;
  function showConnection(text, state) {
    var box = document.querySelector("[data-connection-status]");
    if (!box) return;
    box.textContent = text;
    box.setAttribute("data-state", state);
    box.hidden = !text;
  }
  window.addEventListener("pagehide", function () { leaving = true; });
  document.addEventListener("htmx:sseError", function () {
    document.body.setAttribute("data-live", "lost");
    if (leaving || connectionLost) return;  // a page being left closes its stream: not an outage
    connectionLost = true;
    clearTimeout(connectionTimer);
    showConnection("Connexion perdue \u2014 reconnexion\u2026", "lost");
  });
  document.addEventListener("htmx:sseOpen", function () {
    document.body.setAttribute("data-live", "open");
    if (!connectionLost) return;
    connectionLost = false;
    showConnection("Connexion r\u00e9tablie", "back");
    clearTimeout(connectionTimer);
    connectionTimer = setTimeout(function () { showConnection("", ""); }, 4000);
  });

  // The service worker (frontend/static/sw.js, served at /sw.js): installable app, pages and
  // files kept for offline use, offline capture queue, Web Push.
  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* the site works without it */ });
    });
  }
})();
