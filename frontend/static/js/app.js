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
  // Each live block carries hx-sync="this:replace": an event that comes while the block's
  // redraw is on its way asks again at once (htmx would otherwise queue it on the block being
  // replaced, and drop it with the block).
  var lastEventId = (document.body && document.body.getAttribute("data-live-from")) || null;
  if (window.htmx && htmx.createEventSource) {
    htmx.createEventSource = function (url) {
      var resume = lastEventId ? (url.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + encodeURIComponent(lastEventId) : "";
      var source = new EventSource(url + resume, { withCredentials: true });
      source.addEventListener("changed", function (event) {
        var message = null;
        try { message = JSON.parse(event.data); } catch (e) { /* not ours */ }
        if (!message) return;
        lastEventId = String(message.id || lastEventId);
        insertArrivedRow(message);
      });
      return source;
    };
  }

  // A list open on "Factures" / "Factures reçues" shows an invoice that arrives (deposited, or
  // back from recycling) as a new row in its place, without a reload. The server says whether
  // the invoice belongs to the list's filters (204 when not); rows are ordered by data-key
  // (issue date, id; newest first). A row older than every row shown waits for "Factures
  // suivantes" when there is such a link; a row newer than the first waits for a return to
  // the newest when the list shows a later page.
  var arriving = {};
  function arrived(message) {
    var payload = message.payload || {};
    return message.kind === "invoice.received" ||
      (message.kind === "invoice.status_changed" && payload.status === "MISE_A_DISPOSITION");
  }
  function insertArrivedRow(message) {
    var results = document.getElementById("invoice-results");
    if (!results || !arrived(message) || arriving[message.invoice] ||
        document.getElementById("invoice-row-" + message.invoice)) return;
    var query = results.getAttribute("data-live-query") || "";
    var selectable = document.getElementById("bulk-form") ? "&selectable=1" : "";
    arriving[message.invoice] = true;
    fetch("/invoices/" + message.invoice + "/row?new=1" + selectable + (query ? "&" + query : ""), {
      credentials: "same-origin", headers: { "HX-Request": "true" }
    }).then(function (response) {
      return response.status === 200 ? response.text() : "";
    }).then(function (html) {
      if (html) placeRow(results, html);
    }).catch(function () { /* offline: the row comes with the next reload */ }).then(function () {
      delete arriving[message.invoice];
    });
  }
  function placeRow(results, html) {
    var holder = document.createElement("ul");
    holder.innerHTML = html.trim();
    var row = holder.querySelector("li.inv-row");
    if (!row || document.getElementById(row.id)) return;
    var list = results.querySelector("ul.inv-list");
    if (!list) {  // the list was empty: show it as the server makes it now
      htmx.ajax("GET", "/invoices" + (results.getAttribute("data-live-query") ? "?" + results.getAttribute("data-live-query") : ""),
                { target: "#invoice-results", swap: "outerHTML" });
      return;
    }
    var key = row.getAttribute("data-key"), rows = list.querySelectorAll(":scope > li.inv-row"), before = null;
    for (var i = 0; i < rows.length; i++) {
      if ((rows[i].getAttribute("data-key") || "") < key) { before = rows[i]; break; }
    }
    if (before === rows[0] && !results.hasAttribute("data-live-start")) return;
    if (!before && list.querySelector(":scope > li.more")) return;
    row.classList.add("inv-row-new");
    list.insertBefore(row, before || list.querySelector(":scope > li.more"));
    htmx.process(row);
    var announce = document.querySelector("[data-live-announce]");
    var number = row.querySelector(".inv-number");
    if (announce && number) announce.textContent = "Nouvelle facture : " + number.textContent.trim();
  }

  // Grouped actions (agent's list): the bar says how many invoices are ticked.
  function countTicked() {
    var counter = document.querySelector("[data-bulk-count]");
    if (!counter) return;
    var n = document.querySelectorAll("input.bulk-check:checked").length;
    counter.textContent = n === 0 ? "Cochez des factures pour agir sur plusieurs \u00e0 la fois." :
      n + (n > 1 ? " factures s\u00e9lectionn\u00e9es" : " facture s\u00e9lectionn\u00e9e");
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("input.bulk-check")) countTicked();
  });
  document.addEventListener("htmx:afterSettle", countTicked);

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
