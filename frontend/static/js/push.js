// Web Push on the account page and the synthèse: the "Activer les notifications" button
// (browsers only ask for permission after a user gesture), the iPhone guide (Safari offers
// push only to an app added to the home screen), and removing this very device.
// Loaded for signed-in pages from base.html; no inline script (CSP).
(function () {
  "use strict";

  var blocks = document.querySelectorAll("[data-push-enable-block]");
  var removeForms = document.querySelectorAll("form[data-push-remove]");
  if (!blocks.length && !removeForms.length) return;

  function isIOS() {
    return /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  }

  function isStandalone() {
    return navigator.standalone === true || (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
  }

  function supported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function each(selector, fn) {
    blocks.forEach(function (block) { block.querySelectorAll(selector).forEach(fn); });
  }

  function say(text) {
    each("[data-push-state]", function (el) { el.textContent = text; el.hidden = !text; });
  }

  function showOffer(visible) {
    each("[data-push-offer]", function (el) { el.hidden = !visible; });
    document.querySelectorAll("[data-push-offer-card]").forEach(function (card) { card.hidden = !visible; });
  }

  function currentSubscription() {
    if (!supported()) return Promise.resolve(null);
    return navigator.serviceWorker.ready.then(function (registration) { return registration.pushManager.getSubscription(); });
  }

  function save(subscription) {
    return fetch("/push/subscriptions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(subscription.toJSON()),
    }).then(function (response) {
      if (response.ok) return response.json();
      return response.json().catch(function () { return {}; }).then(function (problem) {
        throw new Error(problem.detail || "L'abonnement n'a pas pu être enregistré.");
      });
    });
  }

  function enable(button) {
    button.disabled = true;
    say("Activation…");
    var ready = navigator.serviceWorker.ready;
    Promise.all([ready, fetch("/push/key", { credentials: "same-origin" }).then(function (r) { return r.json(); })])
      .then(function (results) {
        return results[0].pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(results[1].publicKey) });
      })
      .then(save)
      .then(function (saved) {
        showOffer(false);
        say("Notifications activées sur cet appareil.");
        // The account page lists the devices: show the new one (the synthèse needs no reload).
        if (saved.created && document.querySelector(".push-devices, #notifications")) window.location.reload();
      })
      .catch(function (error) {
        button.disabled = false;
        if (window.Notification && Notification.permission === "denied") {
          showOffer(false);
          say("Les notifications sont bloquées pour Facteur : autorisez-les dans les réglages du navigateur.");
        } else {
          say(error && error.message ? error.message : "L'activation a échoué : réessayez.");
        }
      });
  }

  function setUp() {
    if (!supported()) {
      if (isIOS() && !isStandalone()) {
        each("[data-push-ios-guide]", function (el) { el.hidden = false; });
        document.querySelectorAll("[data-push-offer-card]").forEach(function (card) { card.hidden = false; });
      } else {
        say("Ce navigateur ne sait pas recevoir de notifications.");
      }
      return;
    }
    if (Notification.permission === "denied") {
      say("Les notifications sont bloquées pour Facteur : autorisez-les dans les réglages du navigateur.");
      return;
    }
    currentSubscription().then(function (subscription) {
      if (!subscription) { showOffer(true); return; }
      say("Notifications activées sur cet appareil.");
      // Keep the server in step (it forgets a device its push service refused): idempotent.
      save(subscription).catch(function () { /* shown again on the next visit */ });
    });
    each("[data-push-enable]", function (button) {
      button.addEventListener("click", function () { enable(button); });
    });
  }

  // Removing this very device also ends the browser's subscription, so it stops being offered as "on".
  removeForms.forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.pushRemoving) return;
      event.preventDefault();
      form.dataset.pushRemoving = "1";
      currentSubscription()
        .then(function (subscription) {
          if (subscription && subscription.endpoint === form.dataset.endpoint) return subscription.unsubscribe();
        })
        .catch(function () { /* the server side is what matters */ })
        .then(function () { form.submit(); });
    });
  });

  if (blocks.length) setUp();
})();
