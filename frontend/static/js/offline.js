// Offline behaviour of the pages: the capture form keeps working with no network, its sends
// wait in the device's queue (outbox.js) "en attente d'envoi" and leave when the network
// returns; a panel lists them and their results; logout wipes the device's copies.
/* global FacteurOutbox, htmx */
(function () {
  "use strict";

  if (!window.FacteurOutbox || !window.indexedDB) return;  // the plain form still posts as before
  var Outbox = window.FacteurOutbox;

  var LABELS = {
    pending: "en attente d'envoi",
    accepted: "envoyée",
    refused: "refusée par le portail",
    invalid: "à compléter avant l'envoi",
    gone: "brouillon introuvable (déjà envoyé ou supprimé)",
  };
  var LINKS = { accepted: "Voir la facture", refused: "Voir le compte rendu", invalid: "Corriger le brouillon" };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  // ---- "Nouvelle facture" with no network ----
  // A draft is made by the server. So, while online, the capture page names this person's
  // ready draft (a blank one made in advance) and the worker stores its page; offline,
  // "Nouvelle facture" opens that page from the store, and the capture below works as for
  // any draft. Once the ready draft is taken (typed in, or waiting to be sent), each further
  // "Nouvelle facture" opens the same stored page as a new draft of this phone only
  // (#nouvelle-<key>): typed and queued here, it is sent to /capture/new/send, where the server
  // makes its draft (a queued send whose draft does not exist). So several invoices can wait
  // at once. Said in French when it cannot: no ready page on this phone yet.
  var LOCAL_DRAFT = /^#nouvelle-([A-Za-z0-9-]{8,64})$/;

  function show(selector) {
    document.querySelectorAll("[data-new-draft-offline]").forEach(function (node) {
      node.hidden = !node.matches(selector);
    });
  }

  function draftIdOf(path) {
    return Number((String(path).match(/\/capture\/(\d+)/) || [])[1]) || null;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-new-draft") || navigator.onLine) return;
    event.preventDefault();
    var ready = form.getAttribute("data-ready-draft");
    var stored = ready && window.caches ? caches.match(ready) : Promise.resolve(null);
    var readyId = ready ? draftIdOf(ready) : null;
    Promise.all([stored, ready ? Outbox.pendingFor(readyId) : null, ready ? Outbox.loadDraft(readyId) : null]).then(function (found) {
      var taken = found[1] || (found[2] && !found[2].synced);
      if (!found[0]) show("[data-new-draft-offline]");
      else window.location.assign(taken ? ready + "#nouvelle-" + Outbox.newKey() : ready);
    });
  });
  window.addEventListener("online", function () { show("none"); });

  function keepReadyDraft() {
    var form = document.querySelector("[data-ready-draft][data-new-draft]");
    var worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (form && worker && navigator.onLine) worker.postMessage({ type: "refresh-page", path: form.getAttribute("data-ready-draft") });
  }

  // ---- The panel of queued sends, at the top of every page ----

  function panel() {
    var existing = document.getElementById("outbox");
    if (existing) return existing;
    var main = document.getElementById("main");
    if (!main) return null;
    var section = el("section", { id: "outbox", "class": "card outbox", "aria-live": "polite", "aria-labelledby": "outbox-title" });
    var flashes = main.querySelector(".flashes");
    main.insertBefore(section, flashes ? flashes.nextSibling : main.firstChild);
    return section;
  }

  function describe(entry) {
    var name = (entry.number || "Facture sans numéro") + (entry.recipient ? " · " + entry.recipient : "");
    var state = LABELS[entry.state] || LABELS.pending;
    if (entry.state === "pending" && entry.waiting === "login") state += " : reconnectez-vous pour l'envoyer";
    return { name: name, state: state };
  }

  function render() {
    return Outbox.entries().then(function (list) {
      var section = panel();
      if (!section) return list;
      section.textContent = "";
      section.hidden = list.length === 0;
      if (!list.length) return list;
      section.appendChild(el("h2", { id: "outbox-title" }, "Envois depuis cet appareil"));
      var ul = el("ul", { "class": "list" });
      list.forEach(function (entry) {
        var text = describe(entry);
        var li = el("li", { "class": "list-row outbox-" + entry.state, "data-outbox-key": entry.key });
        var label = el("div");
        label.appendChild(el("strong", {}, text.name));
        label.appendChild(el("span", { "class": "muted outbox-state" }, text.state));
        li.appendChild(label);
        if (entry.resultUrl && LINKS[entry.state]) {
          li.appendChild(el("a", { href: entry.resultUrl, "data-outbox-done": entry.key }, LINKS[entry.state]));
        } else if (entry.state !== "pending") {
          li.appendChild(el("button", { type: "button", "class": "btn btn-small", "data-outbox-done": entry.key }, "Retirer"));
        }
        ul.appendChild(li);
      });
      section.appendChild(ul);
      return list;
    });
  }

  // Following a result (or removing it) takes it off the list.
  document.addEventListener("click", function (event) {
    var done = event.target.closest("[data-outbox-done]");
    if (!done) return;
    event.preventDefault();
    Outbox.forget(done.getAttribute("data-outbox-done")).then(function () {
      if (done.href) window.location.assign(done.href); else render();
    });
  });

  function requestSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then(function (registration) {
      return registration.sync ? registration.sync.register(Outbox.SYNC_TAG) : null;
    }).catch(function () { /* no Background Sync: the next open or "online" event sends it */ });
  }

  // ---- The capture form ----

  var form = document.getElementById("capture-form");
  var localMatch = form && form.hasAttribute("data-ready-draft") && LOCAL_DRAFT.exec(window.location.hash);
  var localDraft = Boolean(localMatch);  // a new draft of this phone only, on the ready draft's stored page
  var draftId = form ? (localDraft ? "local-" + localMatch[1] : draftIdOf(form.getAttribute("action"))) : null;
  if (localDraft) form.setAttribute("action", "/capture/new/send");
  // No server draft to save into (autosave, lines, recipient, photos): as with no network.
  function serverless() { return !navigator.onLine || localDraft; }
  var lastSavedAt = 0;
  var savedAtRequest = 0;

  function status(message) {
    var node = document.getElementById("capture-status");
    if (!node) {
      node = el("p", { id: "capture-status", "class": "capture-status", role: "status" });
      var button = form.querySelector("button[type=submit]");
      button.parentNode.insertBefore(node, button);
    }
    node.textContent = message || "";
    node.hidden = !message;
  }

  function fields(withFiles) {
    var pairs = [];
    new FormData(form).forEach(function (value, name) {
      if (value instanceof File) {
        if (withFiles && value.size > 0) pairs.push([name, value]);
      } else if (name !== "q") {
        pairs.push([name, value]);
      }
    });
    return pairs;
  }

  function saveLocally() {
    lastSavedAt = Date.now();
    if (serverless()) totalsOutOfDate();
    return Outbox.saveDraft(draftId, fields(false), false, waitingFiles()).then(function (copy) { return copy; });
  }

  // Photos chosen while the server could not take them (draft_files.py keeps them once it can).
  function waitingFiles() {
    var files = [];
    form.querySelectorAll("input[data-draft-upload]").forEach(function (input) {
      Array.prototype.forEach.call(input.files || [], function (file) { files.push(file); });
    });
    return files;
  }

  // After a reload: the photos still waiting go back into a field, and up to the server if it
  // can take them now; else they leave with the send.
  function restoreFiles(copy) {
    var files = (copy && copy.files) || [];
    var input = form.querySelector("#f-pdf") || form.querySelector("input[data-draft-upload]");
    if (!files.length || !input || !window.DataTransfer) return;
    var transfer = new DataTransfer();
    files.forEach(function (file) { transfer.items.add(file); });
    input.files = transfer.files;
    if (!serverless() && window.htmx) htmx.trigger(input, "change");
  }

  // The totals are the server's (EN 16931 rounding): offline they are those of the last
  // save, so say so rather than show figures that no longer match the lines. The next
  // answer of the server replaces the whole block.
  function totalsOutOfDate() {
    var totals = document.getElementById("totals");
    if (!totals || totals.hasAttribute("data-out-of-date")) return;
    totals.setAttribute("data-out-of-date", "");  // app.css hides the figures
    totals.appendChild(el("p", { "class": "notice" }, "Hors ligne : les totaux seront calculés par le portail à l'envoi."));
  }

  // "Ajouter une ligne" with no network: a copy of the last line, renumbered, emptied.
  function addLineLocally() {
    var cards = form.querySelectorAll("#lines .line-card");
    var last = cards[cards.length - 1];
    if (!last) return;
    var from = cards.length - 1;
    var to = cards.length;
    var copy = last.cloneNode(true);
    copy.querySelectorAll("[id], [for], [name]").forEach(function (node) {
      ["id", "for", "name"].forEach(function (attr) {
        var value = node.getAttribute(attr);
        if (value) node.setAttribute(attr, value.replace("l" + from + "-", "l" + to + "-").replace("line-" + from + "-", "line-" + to + "-"));
      });
      if (node.tagName === "INPUT") node.value = /-quantity$/.test(node.name) ? "1" : "";
      var vat = node.tagName === "SELECT" && node.name.match(/-(vat_rate|exemption_code)$/);
      if (vat) node.value = last.querySelector('[name$="' + vat[0] + '"]').value;  // same VAT as the line above
      else if (node.tagName === "SELECT") node.value = "C62";
    });
    copy.querySelector(".line-title").textContent = "Ligne " + (to + 1);
    last.parentNode.insertBefore(copy, last.nextSibling);
  }

  // The worker keeps this page as first loaded; after changes saved on the server, it is
  // asked to store it again (at most every 2 s), so an offline reload shows the recipient…
  var refreshTimer = null;
  function refreshStoredPage() {
    var worker = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (!worker) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      worker.postMessage({ type: "refresh-page", path: window.location.pathname });
    }, 2000);
  }

  function restore(copy) {
    var lines = copy.fields.reduce(function (count, pair) {
      var match = pair[0].match(/^line-(\d+)-/);
      return match ? Math.max(count, Number(match[1]) + 1) : count;
    }, 0);
    while (form.querySelectorAll("#lines .line-card").length < lines) addLineLocally();
    copy.fields.forEach(function (pair) {
      var field = form.elements[pair[0]];
      if (pair[0] === "_csrf_token" || pair[0] === "idempotency_key") return;
      if (!field) {  // e.g. the service, chosen after this copy of the page was stored
        form.appendChild(el("input", { type: "hidden", name: pair[0], value: pair[1] }));
        return;
      }
      if (field instanceof RadioNodeList || field.type === "radio") {
        Array.prototype.forEach.call(field.length ? field : [field], function (radio) { radio.checked = radio.value === pair[1]; });
      } else if (field.type !== "file") {
        field.value = pair[1];
      }
    });
  }

  function showResult(entry) {
    if (entry.resultUrl && entry.state !== "pending") {
      return Outbox.forget(entry.key).then(function () { window.location.assign(entry.resultUrl); });
    }
    if (entry.state === "gone") status("Ce brouillon n'existe plus sur le serveur : il a déjà été envoyé ou supprimé.");
    else status("Facture en attente d'envoi : elle partira d'elle-même dès que le réseau reviendra.");
    return render();
  }

  function sendNow() {
    return Outbox.flush().then(function () { return Outbox.entries(); }).then(function (list) {
      var mine = list.filter(function (e) { return e.draftId === draftId; }).pop();
      return mine ? showResult(mine) : render();
    });
  }

  function bindCapture() {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      var recipient = form.elements.recipient_name;
      var number = form.elements.number.value.trim();
      Outbox.entries().then(function (list) {
        var twin = list.some(function (e) { return e.state === "pending" && e.draftId !== draftId && e.number === number; });
        if (twin && window.FacteurCaptureCheck) {  // would be refused as a duplicate once sent
          FacteurCaptureCheck.show(form, [{ field: "number", message: "Une autre facture saisie sur ce téléphone porte déjà le numéro " + number + " : changez-le." }]);
          return null;
        }
        return Outbox.enqueue({
          draftId: draftId, action: form.getAttribute("action"), csrf: form.elements._csrf_token.value,
          number: number, recipient: recipient ? recipient.value : "", fields: fields(true),
        }).then(function () {
          status(navigator.onLine ? "Envoi en cours…" : "Facture en attente d'envoi : elle partira d'elle-même dès que le réseau reviendra.");
          requestSync();
          return navigator.onLine ? sendNow() : render();
        });
      }).finally(function () { button.disabled = false; });
    });

    form.addEventListener("input", saveLocally);
    form.addEventListener("change", saveLocally);
    form.addEventListener("htmx:beforeRequest", function (event) {
      if (event.detail.elt === form) savedAtRequest = lastSavedAt;
    });
    form.addEventListener("htmx:afterRequest", function (event) {
      if (!event.detail.successful) return;
      if (event.detail.elt.hasAttribute("data-draft-upload")) {  // kept by the server now
        event.detail.elt.value = "";
        Outbox.keepFiles(draftId, waitingFiles());
      }
      if (event.detail.elt === form) {
        Outbox.markDraftSynced(draftId, savedAtRequest);
        status("");
      }
      refreshStoredPage();
    });
    form.addEventListener("htmx:sendError", function () {
      status("Hors ligne : votre saisie est gardée sur cet appareil.");
    });
    // No network: add the line here instead of asking the server; no directory search.
    form.addEventListener("htmx:beforeRequest", function (event) {
      var path = (event.detail.requestConfig && event.detail.requestConfig.path) || "";
      if (!serverless()) return;
      if (/\/lines$/.test(path)) {
        event.preventDefault();
        addLineLocally();
        saveLocally();
      } else if (path.indexOf("/capture/recipients") === 0 || localDraft) {
        event.preventDefault();  // a phone-only draft: its photos go with the send
      }
    });
    bindOfflineRecipient();
  }

  // No directory with no network: the recipient is given by its SIRET, checked on sending.
  function bindOfflineRecipient() {
    var hint = form.querySelector("[data-offline-recipient]");
    var search = document.getElementById("recipient-q");
    function toggle() { if (hint) hint.hidden = !serverless(); }
    toggle();
    window.addEventListener("online", toggle);
    window.addEventListener("offline", toggle);
    if (!search) return;
    search.addEventListener("input", function () {
      var digits = search.value.replace(/\s+/g, "");
      if (!serverless() || !/^\d{14}$/.test(digits)) return;
      form.elements.recipient_siret.value = digits;
      form.elements.recipient_name.value = "SIRET " + digits;
      var routing = document.getElementById("routing");
      var said = routing && routing.querySelector(".empty, .chosen");
      if (said) said.textContent = "Destinataire : SIRET " + digits + " (vérifié à l'envoi).";
      saveLocally();
    });
  }

  // A ready draft opened offline is the page stored when it was made: today's date, not that day's.
  function todayIfReady() {
    if (!form.hasAttribute("data-ready-draft") || !serverless()) return;
    var now = new Date();
    var today = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
    if (form.elements.issue_date && form.elements.issue_date.value !== today) {
      form.elements.issue_date.value = today;
      saveLocally();
    }
  }

  // A phone-only draft starts with the next number free on this phone: the ready draft's
  // number is already that of another invoice typed here.
  function nextFreeNumber() {
    return Outbox.numbersInUse().then(function (used) {
      var number = form.elements.number.value;
      for (var tries = 0; used.indexOf(number) >= 0 && tries < 1000; tries++) {
        var match = /^(.*?)(\d+)$/.exec(number);
        if (!match) break;
        var next = String(Number(match[2]) + 1);
        number = match[1] + (next.length < match[2].length ? "0".repeat(match[2].length - next.length) : "") + next;
      }
      form.elements.number.value = number;
    });
  }

  function restoreCapture() {
    return Outbox.loadDraft(draftId).then(function (copy) {
      if (!copy && localDraft) return nextFreeNumber().then(function () { todayIfReady(); saveLocally(); return copy; });
      return copy;
    }).then(function (copy) {
      restoreFiles(copy);
      if (copy && !copy.synced) {
        restore(copy);
        lastSavedAt = copy.savedAt;
        status("Vos dernières modifications, faites sans réseau, ont été reprises depuis cet appareil.");
        if (navigator.onLine && window.htmx) htmx.trigger(form, "change");
      } else {
        todayIfReady();
      }
      return Outbox.pendingFor(draftId);
    }).then(function (pending) {
      if (pending) status("Facture en attente d'envoi : elle partira d'elle-même dès que le réseau reviendra.");
    });
  }

  // "Supprimer le brouillon" on a phone-only draft: it exists only here (the form below the
  // page would delete the ready draft on the server).
  document.addEventListener("submit", function (event) {
    var target = event.target;
    if (!localDraft || !/\/delete$/.test(target.getAttribute("action") || "") || event.defaultPrevented) return;
    event.preventDefault();
    Outbox.forgetDraft(draftId).then(function () { window.location.assign("/capture"); });
  });

  // ---- When the network returns, and on every page opened ----

  function flushAndShow() {
    if (!navigator.onLine) return render();
    return Outbox.flush().then(function () { return Outbox.entries(); }).then(function (list) {
      var mine = form && list.filter(function (e) { return e.draftId === draftId && e.state !== "pending"; }).pop();
      return mine ? showResult(mine) : render();
    });
  }

  window.addEventListener("online", flushAndShow);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "outbox-changed") flushAndShow();
    });
  }

  // ---- Logout: nothing of this user stays on the device ----

  document.addEventListener("submit", function (event) {
    var logout = event.target;
    if (logout.getAttribute("action") !== "/logout" || event.defaultPrevented) return;
    event.preventDefault();
    Outbox.entries().then(function (list) {
      var waiting = list.filter(function (e) { return e.state === "pending"; }).length;
      if (waiting && !window.confirm((waiting > 1 ? waiting + " factures en attente d'envoi seront effacées" : "1 facture en attente d'envoi sera effacée") +
        " de cet appareil. Se déconnecter quand même\u00a0?")) return null;
      var worker = navigator.serviceWorker && navigator.serviceWorker.controller;
      if (worker) worker.postMessage({ type: "logout" });
      return Outbox.forgetAll().then(function () { logout.submit(); });
    });
  });

  // After the page has settled: sending waiting invoices is never in the way of the first tap.
  function whenIdle(work) {
    if (window.requestIdleCallback) window.requestIdleCallback(work, { timeout: 3000 }); else setTimeout(work, 500);
  }
  if (form) bindCapture();
  whenIdle(function () { keepReadyDraft(); (form ? restoreCapture() : Promise.resolve()).then(flushAndShow); });
})();
