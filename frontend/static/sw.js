// Facteur's service worker, served at /sw.js (scope "/") by backend/pwa.py, which writes the
// static version into it: a new deployment changes these bytes, so the browser installs the
// new worker, which drops the caches of the old one on activation.
/* global idbKeyval, FacteurOutbox */
"use strict";

var STATIC_VERSION = "__STATIC_VERSION__";
var CACHE_VERSION = "__CACHE_VERSION__";
var PREFIX = "facteur-";
var SHELL_CACHE = PREFIX + "shell-" + CACHE_VERSION;   // app shell and static files: same for every user
var PAGES_CACHE = PREFIX + "pages-" + CACHE_VERSION;   // pages seen online: personal, cleared at logout
var OFFLINE_URL = "/offline";

function versioned(path) { return path + "?v=" + STATIC_VERSION; }

var SHELL = [
  OFFLINE_URL,
  versioned("/static/css/app.css"),
  versioned("/static/js/app.js"),
  versioned("/static/js/outbox.js"),
  versioned("/static/js/offline.js"),
  versioned("/static/js/capture-check.js"),
  "/static/vendor/htmx/htmx.min.js",
  "/static/vendor/idb-keyval/umd.js",
  "/static/icons/icon.svg",
  versioned("/static/icons/icon-192.png"),
  versioned("/static/icons/icon-512.png"),
  versioned("/static/icons/icon-maskable-512.png"),
];

// The offline capture queue, shared with the pages (Background Sync sends it from here).
importScripts("/static/vendor/idb-keyval/umd.js", versioned("/static/js/outbox.js"));

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then(function (cache) { return cache.addAll(SHELL.map(function (url) { return new Request(url, { cache: "reload" }); })); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names.filter(function (name) {
          return name.indexOf(PREFIX) === 0 && name !== SHELL_CACHE && name !== PAGES_CACHE;
        }).map(function (name) { return caches.delete(name); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

// Never stored: the API, the live stream, development pages, one-time links (tokens in the URL).
var NEVER_CACHED = /^\/(api\/|events|dev\/|confirm|password\/|sw\.js|manifest\.webmanifest)/;

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && (url.pathname === "/logout" || url.pathname === "/login")) {
    // Logout: everything of this user goes. Login: pages kept for someone whose session
    // had expired must not be shown offline to whoever logs in now.
    event.waitUntil(url.pathname === "/logout" ? forgetPersonalData() : forgetPages());
    return;  // the browser sends it itself; the worker only forgets
  }
  if (request.method !== "GET" || NEVER_CACHED.test(url.pathname)) return;
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(request, event));
  } else if (url.pathname.indexOf("/static/") === 0 && (url.searchParams.has("v") || url.pathname.indexOf("/static/vendor/") === 0)) {
    event.respondWith(cacheFirst(request));
  }
  // Anything else (htmx fragments, downloads, unversioned files) goes to the network untouched.
});

function networkFirst(request, event) {
  return fetch(request)
    .then(function (response) {
      if (isCacheablePage(response)) {
        var copy = response.clone();  // stored while the page is shown, not before
        event.waitUntil(caches.open(PAGES_CACHE).then(function (cache) { return cache.put(request, copy); }));
      }
      return response;
    })
    .catch(function () {
      return caches.match(request, { cacheName: PAGES_CACHE })
        .then(function (cached) { return cached || caches.match(OFFLINE_URL, { cacheName: SHELL_CACHE }); })
        .then(function (fallback) { return fallback || new Response("Hors ligne", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } }); });
    });
}

function isCacheablePage(response) {
  // A redirect (e.g. to /login once the session has expired) must not stand for the page asked.
  if (!response.ok || response.redirected || response.type !== "basic") return false;
  var type = response.headers.get("Content-Type") || "";
  var control = response.headers.get("Cache-Control") || "";
  return type.indexOf("text/html") === 0 && !response.headers.has("Content-Disposition") && control.indexOf("no-store") === -1;
}

function cacheFirst(request) {
  return caches.match(request).then(function (cached) {
    if (cached) return cached;
    return fetch(request).then(function (response) {
      if (response.ok && !/attachment/i.test(response.headers.get("Content-Disposition") || "")) {
        var copy = response.clone();
        caches.open(SHELL_CACHE).then(function (cache) { return cache.put(request, copy); });
      }
      return response;
    });
  });
}

// Logout: the pages seen by this user and whatever they left on the device go, so that the
// next person using this phone sees none of it.
function forgetPages() {
  return caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name.indexOf(PREFIX + "pages-") === 0; })
      .map(function (name) { return caches.delete(name); }));
  });
}

function forgetPersonalData() {
  return forgetPages().then(function () { return FacteurOutbox.forgetAll(); });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "logout") event.waitUntil(forgetPersonalData());
  if (data.type === "flush-outbox") event.waitUntil(FacteurOutbox.flush());
  if (data.type === "refresh-page" && typeof data.path === "string") event.waitUntil(refreshPage(data.path));
});

// A page changed by htmx since it was stored (the capture form autosaved, a recipient chosen):
// store it again so that an offline reload shows it as it is now.
function refreshPage(path) {
  var url = new URL(path, self.location.origin);
  if (url.origin !== self.location.origin || NEVER_CACHED.test(url.pathname)) return Promise.resolve();
  var request = new Request(url.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
  return fetch(request).then(function (response) {
    if (!isCacheablePage(response)) return null;
    return caches.open(PAGES_CACHE).then(function (cache) { return cache.put(url.href, response); });
  }).catch(function () { /* offline again: the older copy stays */ });
}

// Background Sync: the browser wakes the worker once the network is back, even with no tab open.
self.addEventListener("sync", function (event) {
  if (event.tag === FacteurOutbox.SYNC_TAG) {
    event.waitUntil(FacteurOutbox.flush().then(notifyPages));
  }
});

function notifyPages() {
  return self.clients.matchAll({ type: "window" }).then(function (windows) {
    windows.forEach(function (client) { client.postMessage({ type: "outbox-changed" }); });
  });
}

// Web Push: the payload is JSON {title, body, url, tag}; a tag per invoice makes a newer
// status replace the older notification instead of piling up.
self.addEventListener("push", function (event) {
  var payload = {};
  try { payload = event.data ? event.data.json() : {}; } catch (e) { payload = { body: event.data ? event.data.text() : "" }; }
  var options = {
    body: payload.body || "",
    tag: payload.tag || undefined,
    renotify: Boolean(payload.tag),
    icon: versioned("/static/icons/icon-192.png"),
    badge: versioned("/static/icons/icon-192.png"),
    lang: "fr",
    data: { url: payload.url || "/" },
  };
  event.waitUntil(self.registration.showNotification(payload.title || "Facteur", options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (target.origin !== self.location.origin) target = new URL("/", self.location.origin);  // only our own pages
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      var open = windows.find(function (client) { return client.url === target.href; });
      if (open) return open.focus();
      return self.clients.openWindow(target.href);
    })
  );
});
