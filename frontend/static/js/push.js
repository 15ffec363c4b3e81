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

  // Every outcome is said in French: never the browser's own (English) error, never an
  // "Activation…" that waits for ever.
  var ANSWER_TIMEOUT = 10000;  // ms
  var MESSAGES = {
    blocked: "Les notifications sont bloquées pour Facteur : autorisez-les dans les réglages du navigateur.",
    dismissed: "Vous n'avez pas autorisé les notifications. Touchez de nouveau « Activer les notifications » et choisissez « Autoriser ».",
    unsupported: "Ce navigateur ne sait pas recevoir de notifications.",
    noWorker: "Les notifications ne sont pas disponibles dans cette fenêtre (navigation privée, ou Facteur n'a pas pu s'installer dans le navigateur) : ouvrez Facteur dans une fenêtre normale.",
    timeout: "Le navigateur n'a pas répondu au bout de 10 secondes : vérifiez la connexion, puis touchez de nouveau « Activer les notifications ».",
    pushService: "Le service de notifications du navigateur n'a pas pu être joint : vérifiez la connexion, puis réessayez.",
    offline: "Facteur n'a pas pu être joint : vérifiez la connexion, puis réessayez.",
    failed: "L'activation a échoué : réessayez.",
  };

  // An Error whose message is ours (French), as opposed to one the browser made.
  function problem(code, text) {
    var error = new Error(text || MESSAGES[code]);
    error.facteurMessage = text || MESSAGES[code];
    return error;
  }

  function messageFor(error) {
    if (error && error.facteurMessage) return error.facteurMessage;
    if (window.Notification && Notification.permission === "denied") return MESSAGES.blocked;
    var name = error && error.name;
    if (name === "NotAllowedError") return MESSAGES.dismissed;  // prompt closed without an answer
    if (name === "AbortError" || name === "NetworkError") return MESSAGES.pushService;
    if (name === "InvalidStateError" || name === "SecurityError") return MESSAGES.noWorker;
    return MESSAGES.failed;
  }

  // Rejects with our French message when the promise has not settled in time; `late` still
  // receives a value that arrives afterwards (a permission prompt answered after 10 s).
  function withTimeout(promise, code, late) {
    return new Promise(function (resolve, reject) {
      var timedOut = false;
      var timer = setTimeout(function () { timedOut = true; reject(problem(code)); }, ANSWER_TIMEOUT);
      promise.then(function (value) {
        clearTimeout(timer);
        if (!timedOut) resolve(value); else if (late) late(value);
      }, function (error) {
        clearTimeout(timer);
        if (!timedOut) reject(error);
      });
    });
  }

  function workerReady() {
    return withTimeout(navigator.serviceWorker.ready, "noWorker");
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
    return workerReady().then(function (registration) { return registration.pushManager.getSubscription(); });
  }

  // fetch() from our own server: its French problem detail, or ours when it cannot be reached.
  function fromFacteur(url, options) {
    return withTimeout(fetch(url, options), "timeout").catch(function (error) {
      throw error && error.facteurMessage ? error : problem("offline");
    }).then(function (response) {
      if (response.ok) return response.json();
      return response.json().catch(function () { return {}; }).then(function (body) {
        throw problem("failed", body.detail || "L'abonnement n'a pas pu être enregistré.");
      });
    });
  }

  function save(subscription) {
    return fromFacteur("/push/subscriptions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(subscription.toJSON()),
    });
  }

  function enable(button) {
    button.disabled = true;
    say("Activation…");
    function done(saved) {
      showOffer(false);
      say("Notifications activées sur cet appareil.");
      // The account page lists the devices: show the new one (the synthèse needs no reload).
      if (saved.created && document.querySelector(".push-devices, #notifications")) window.location.reload();
    }
    function late(subscription) {  // the prompt was answered after the 10 s message
      save(subscription).then(done, function (error) { say(messageFor(error)); });
    }
    Promise.all([workerReady(), fromFacteur("/push/key", { credentials: "same-origin" })])
      .then(function (results) {
        var asked = results[0].pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(results[1].publicKey) });
        return withTimeout(asked, "timeout", late);
      })
      .then(save)
      .then(done)
      .catch(function (error) {
        button.disabled = false;
        if (window.Notification && Notification.permission === "denied") showOffer(false);
        say(messageFor(error));
      });
  }

  function setUp() {
    if (!supported()) {
      if (isIOS() && !isStandalone()) {
        each("[data-push-ios-guide]", function (el) { el.hidden = false; });
        document.querySelectorAll("[data-push-offer-card]").forEach(function (card) { card.hidden = false; });
      } else if ("PushManager" in window && !("serviceWorker" in navigator)) {
        say(MESSAGES.noWorker);  // Firefox's private windows have no service workers
      } else {
        say(MESSAGES.unsupported);
      }
      return;
    }
    if (Notification.permission === "denied") {
      say(MESSAGES.blocked);
      return;
    }
    function decide(subscription) {
      if (!subscription) { say(""); showOffer(true); return; }
      say("Notifications activées sur cet appareil.");
      // Keep the server in step (it forgets a device its push service refused): idempotent.
      save(subscription).catch(function () { /* shown again on the next visit */ });
    }
    currentSubscription().then(decide, function () {
      say(MESSAGES.noWorker);
      // A worker that was only slow to install still gets its button.
      navigator.serviceWorker.ready.then(function (registration) { return registration.pushManager.getSubscription(); }).then(decide);
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
