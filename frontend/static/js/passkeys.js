// Passkeys and security keys (WebAuthn) with the browser's own navigator.credentials:
// adding one in "Sécurité", and using one at the second step of the login. The server
// (backend/accounts/passkeys.py) makes the options and checks every answer.
(function () {
  "use strict";

  var supported = !!(window.PublicKeyCredential && navigator.credentials && navigator.credentials.create);

  function toBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  // POST JSON to Facteur; rejects with the French detail of its problem answer.
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    }).catch(function () {
      throw new Error("Facteur est injoignable\u00a0: vérifiez votre connexion.");
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.detail || "La demande a échoué. Réessayez.");
        return data;
      });
    });
  }

  function browserMessage(error) {
    if (error && error.name === "NotAllowedError") return "Opération annulée ou délai dépassé. Réessayez.";
    if (error && error.name === "InvalidStateError") return "Cette clé est déjà enregistrée sur ce compte.";
    if (error && error.name === "SecurityError") return "Ce site ne peut pas utiliser de clé d'accès à cette adresse.";
    return (error && error.message) || "La clé n'a pas pu être utilisée.";
  }

  function showError(container, error) {
    var box = container.querySelector("[data-passkey-error]");
    if (!box) return;
    box.textContent = error ? browserMessage(error) : "";
    box.hidden = !error;
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function common(credential) {
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      authenticatorAttachment: credential.authenticatorAttachment || null,
    };
  }

  function registrationJSON(credential) {
    var json = common(credential);
    var response = credential.response;
    json.response = {
      clientDataJSON: toBase64url(response.clientDataJSON),
      attestationObject: toBase64url(response.attestationObject),
      transports: response.getTransports ? response.getTransports() : [],
    };
    return json;
  }

  function assertionJSON(credential) {
    var json = common(credential);
    var response = credential.response;
    json.response = {
      clientDataJSON: toBase64url(response.clientDataJSON),
      authenticatorData: toBase64url(response.authenticatorData),
      signature: toBase64url(response.signature),
      userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
    };
    return json;
  }

  function register(form) {
    var button = form.querySelector("button");
    var name = form.elements.name.value.trim();
    button.disabled = true;
    showError(form, null);
    post("/account/security/passkeys/options").then(function (options) {
      return navigator.credentials.create({ publicKey: creationOptions(options) });
    }).then(function (credential) {
      return post("/account/security/passkeys", { name: name, credential: registrationJSON(credential) });
    }).then(function (result) {
      var codesForm = document.getElementById("recovery-codes-form");
      if (result.show_codes && codesForm) codesForm.submit();  // the first factor comes with its recovery codes
      else window.location.assign(result.redirect || "/account/security");
    }).catch(function (error) {
      showError(form, error);
      button.disabled = false;
    });
  }

  function login(button) {
    var container = button.closest("[data-second-factor]") || document.body;
    var remember = container.querySelector("[data-remember]");
    button.disabled = true;
    showError(container, null);
    post("/login/second-factor/passkey/options").then(function (options) {
      return navigator.credentials.get({ publicKey: requestOptions(options) });
    }).then(function (credential) {
      return post("/login/second-factor/passkey", { credential: assertionJSON(credential), remember: !!(remember && remember.checked) });
    }).then(function (result) {
      window.location.assign(result.redirect || "/");
    }).catch(function (error) {
      showError(container, error);
      button.disabled = false;
    });
  }

  document.querySelectorAll("[data-passkey-unsupported]").forEach(function (hint) { hint.hidden = supported; });
  document.querySelectorAll("[data-passkey-register]").forEach(function (form) {
    if (!supported) { form.querySelector("button").disabled = true; return; }
    form.addEventListener("submit", function (event) { event.preventDefault(); register(form); });
  });
  document.querySelectorAll("[data-passkey-login]").forEach(function (button) {
    if (!supported) { button.hidden = true; return; }
    button.addEventListener("click", function () { login(button); });
  });
})();
