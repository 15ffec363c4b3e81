// The offline capture queue, used by the pages and by the service worker (importScripts).
// An invoice sent with no network waits here, in IndexedDB (idb-keyval), "en attente
// d'envoi", until the network returns. Each queued send carries an idempotency key made on
// the device: the server answers a repeated send with its first result, so a send whose
// answer was lost, or the page and Background Sync sending at once, never makes two invoices.
/* global idbKeyval */
(function (scope) {
  "use strict";

  var SYNC_TAG = "facteur-outbox";
  var LOCK = "facteur-outbox";
  var queue = idbKeyval.createStore("facteur-outbox", "sends");
  var drafts = idbKeyval.createStore("facteur-drafts", "drafts");  // forms typed offline, by draft id

  function newKey() {
    if (scope.crypto && scope.crypto.randomUUID) return scope.crypto.randomUUID();
    var bytes = scope.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40; bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function entries() {
    return idbKeyval.values(queue).then(function (list) {
      return list.sort(function (a, b) { return a.createdAt - b.createdAt; });
    });
  }

  function pendingFor(draftId) {
    return entries().then(function (list) {
      return list.find(function (e) { return e.draftId === draftId && e.state === "pending"; }) || null;
    });
  }

  // One waiting send per draft: sending again before the network returns keeps the same key
  // (if the first copy did reach the server, its answer stands), with the newest fields.
  function enqueue(send) {
    return pendingFor(send.draftId).then(function (existing) {
      var entry = Object.assign({ state: "pending", createdAt: Date.now(), attempts: 0 }, send);
      if (existing) { entry.key = existing.key; entry.createdAt = existing.createdAt; }
      entry.key = entry.key || newKey();
      return idbKeyval.set(entry.key, entry, queue).then(function () { return entry; });
    });
  }

  function body(entry) {
    var data = new FormData();
    entry.fields.forEach(function (pair) {
      var value = pair[1];
      if (typeof Blob !== "undefined" && value instanceof Blob) data.append(pair[0], value, value.name || "piece-jointe");
      else data.append(pair[0], value);
    });
    data.set("idempotency_key", entry.key);
    return data;
  }

  // The server's answer, as the state of the queued send. Only an answer that settles it
  // (the invoice, the report, "to correct") ends the wait; anything else is tried again.
  function outcome(response) {
    var path = new URL(response.url).pathname;
    var result = response.headers.get("X-Facteur-Result");
    if (response.redirected && path === "/login") return { state: "pending", waiting: "login" };
    if (response.ok && /^\/invoices\/\d+$/.test(path)) return { state: "accepted", resultUrl: path };
    if (response.status === 422 && result) return { state: result, resultUrl: response.headers.get("X-Facteur-Location") };
    if (response.status === 404) return { state: "gone" };
    return { state: "pending", waiting: response.status === 401 || response.status === 403 ? "login" : "server" };
  }

  function sendOne(entry) {
    var attempt = Object.assign({}, entry, { attempts: (entry.attempts || 0) + 1, lastTry: Date.now() });
    return fetch(entry.action, {
      method: "POST", body: body(entry), credentials: "same-origin",
      headers: { "X-CSRFToken": entry.csrf || "", "Accept": "text/html" },
    }).then(function (response) {
      var updated = Object.assign(attempt, outcome(response));
      // Settled: the server holds the form as sent, the device's copy has done its job, and
      // the stored page of that draft would only offer it again (as the ready draft, say).
      if (updated.state !== "pending") {
        idbKeyval.del(String(entry.draftId), drafts);
        forgetStoredPages(["/capture/" + entry.draftId]);
      }
      return idbKeyval.set(entry.key, updated, queue).then(function () { return updated; });
    }, function () {
      // No network (or it dropped during the send): still waiting, nothing lost.
      return idbKeyval.set(entry.key, Object.assign(attempt, { waiting: "network" }), queue).then(function () {
        throw new Error("offline");
      });
    });
  }

  // "facteur-pages-": the worker's cache of pages seen online (sw.js, PAGES_CACHE).
  function forgetStoredPages(paths) {
    if (!scope.caches) return Promise.resolve();
    return scope.caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name.indexOf("facteur-pages-") === 0; }).map(function (name) {
        return scope.caches.open(name).then(function (cache) {
          return Promise.all(paths.map(function (path) { return cache.delete(new URL(path, scope.location.origin).href); }));
        });
      }));
    });
  }

  function flushNow() {
    return entries().then(function (list) {
      var waiting = list.filter(function (e) { return e.state === "pending"; });
      return waiting.reduce(function (chain, entry) {
        return chain.then(function (done) {
          return sendOne(entry).then(function (updated) { return done.concat([updated]); });
        });
      }, Promise.resolve([]));
    });
  }

  // Sends every waiting invoice, one at a time. A Web Lock keeps the page and the worker from
  // sending at the same moment (the server's idempotency covers browsers without locks).
  function flush() {
    var run = function () { return flushNow().catch(function () { return []; }); };
    if (scope.navigator && scope.navigator.locks) return scope.navigator.locks.request(LOCK, run);
    return run();
  }

  function forget(key) { return idbKeyval.del(key, queue); }

  function forgetAll() {
    return Promise.all([idbKeyval.clear(queue), idbKeyval.clear(drafts)]);
  }

  // `files`: photos chosen but not yet kept by the server (no network), so that a reload
  // still has them; they stay here until uploaded or sent, whatever `synced` says.
  function saveDraft(draftId, fields, synced, files) {
    return idbKeyval.set(String(draftId), { fields: fields, synced: synced, savedAt: Date.now(), files: files || [] }, drafts);
  }

  function loadDraft(draftId) { return idbKeyval.get(String(draftId), drafts); }

  function keepFiles(draftId, files) {
    return idbKeyval.update(String(draftId), function (copy) {
      if (copy) copy.files = files;
      return copy;
    }, drafts);
  }

  function forgetDraft(draftId) { return idbKeyval.del(String(draftId), drafts); }

  // The invoice numbers taken on this device by other drafts than `exceptDraftId`: waiting
  // sends and forms typed but not yet synced.
  function numbersInUse(exceptDraftId) {
    var except = exceptDraftId == null ? null : String(exceptDraftId);
    return Promise.all([entries(), idbKeyval.entries(drafts)]).then(function (found) {
      var numbers = found[0].filter(function (e) { return e.state === "pending" && String(e.draftId) !== except; })
        .map(function (e) { return e.number; });
      found[1].forEach(function (pair) {
        var copy = pair[1];
        if (!copy || copy.synced || String(pair[0]) === except) return;
        (copy.fields || []).forEach(function (field) { if (field[0] === "number") numbers.push(field[1]); });
      });
      return numbers.filter(Boolean);
    });
  }

  function markDraftSynced(draftId, savedAt) {
    return idbKeyval.update(String(draftId), function (copy) {
      if (copy && copy.savedAt === savedAt) copy.synced = true;
      return copy;
    }, drafts);
  }

  scope.FacteurOutbox = {
    SYNC_TAG: SYNC_TAG, enqueue: enqueue, entries: entries, pendingFor: pendingFor, flush: flush, forget: forget,
    forgetAll: forgetAll, saveDraft: saveDraft, loadDraft: loadDraft, markDraftSynced: markDraftSynced,
    numbersInUse: numbersInUse, newKey: newKey, forgetDraft: forgetDraft, keepFiles: keepFiles,
  };
})(self);
