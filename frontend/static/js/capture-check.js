// The capture form checked on the device, before "Valider et envoyer" queues or sends it:
// everything that needs no server (required fields, formats, dates, amounts), said in French
// next to the fields. An invoice typed with no network is thus not refused only once the
// network is back. The server checks everything again (backend/invoices/generation/model.py
// check_invoice and capture.to_invoice): these rules follow it and are never stricter.
(function () {
  "use strict";

  var NUMBER = /^[A-Za-z0-9+\-_/]{1,20}$/;        // BR-FR-01, within Chorus Pro's 20 (FCT-PORTAL-16)
  var DECIMAL = /^-?\d+(?:[.,]\d+)?$/;              // what capture._line reads (comma or point)
  var MAX_QUANTITY = 1e9, MAX_PRICE = 1e11, MAX_DECIMALS = 4, ENGAGEMENT_MAX = 50;

  function value(form, name) {
    var field = form.elements[name];
    if (!field) return "";
    if (field instanceof RadioNodeList) return field.value || "";
    return (field.value || "").trim();
  }

  function validDate(text) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
    var d = new Date(text + "T00:00:00Z");
    return !isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
  }

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var n = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) { n *= 2; if (n > 9) n -= 9; }
      sum += n;
    }
    return sum % 10 === 0;
  }

  // python-stdnum's SIRET check: Luhn, except La Poste's establishments (sum of digits % 5).
  function validSiret(siret) {
    if (!/^\d{14}$/.test(siret) || !luhn(siret.slice(0, 9))) return false;
    if (siret.indexOf("356000000") === 0 && siret !== "35600000000048") {
      return siret.split("").reduce(function (s, c) { return s + Number(c); }, 0) % 5 === 0;
    }
    return luhn(siret);
  }

  function decimals(text) {
    var part = text.split(/[.,]/)[1];
    return part ? part.replace(/0+$/, "").length : 0;
  }

  function lineRows(form) {
    var rows = [];
    for (var i = 0; form.elements["line-" + i + "-description"]; i++) {
      rows.push({
        index: i,
        description: value(form, "line-" + i + "-description"),
        quantity: value(form, "line-" + i + "-quantity"),
        price: value(form, "line-" + i + "-unit_price"),
        rate: value(form, "line-" + i + "-vat_rate"),
        exemption: form.elements["line-" + i + "-exemption_code"],
      });
    }
    return rows;
  }

  function labelOf(field) {
    var label = field.id && document.querySelector('label[for="' + field.id + '"]');
    var text = label ? label.textContent : field.name;
    return text.replace(/\s*[—(].*$/, "").trim();
  }

  // [{field: name, message}] in the order of the form.
  function problems(form) {
    var found = [];
    function add(field, message) { found.push({ field: field, message: message }); }

    var siret = value(form, "recipient_siret");
    if (!siret) add("recipient_siret", navigator.onLine ? "Choisissez l'entité publique destinataire dans l'annuaire."
      : "Indiquez le destinataire : tapez son SIRET (14 chiffres) dans la recherche.");
    else if (!validSiret(siret)) add("recipient_siret", "Le SIRET du destinataire n'est pas valide (14 chiffres, clé de contrôle).");
    if (value(form, "engagement").length > ENGAGEMENT_MAX) add("engagement", "Le numéro d'engagement a 50 caractères au plus.");

    var number = value(form, "number");
    if (!number) add("number", "Le numéro de facture est obligatoire.");
    else if (!NUMBER.test(number)) add("number", "Le numéro de facture contient des caractères non acceptés (lettres, chiffres, + - _ / seulement, 20 au plus).");

    var creditNote = value(form, "type_code") === "381";
    var alreadyPaid = value(form, "billing_framework") === "A2";
    if (creditNote && !value(form, "preceding_invoice_number")) add("preceding_invoice_number", "Un avoir doit indiquer le numéro de la facture d'origine.");
    if (creditNote && alreadyPaid) add("billing_framework", "Le cadre « facture déjà payée » (A2) ne s'applique pas à un avoir.");

    var issue = value(form, "issue_date");
    var due = value(form, "due_date");
    if (!issue) add("issue_date", "La date d'émission est obligatoire.");
    else if (!validDate(issue)) add("issue_date", "La date d'émission n'est pas une date valide.");
    // BR-CO-25: something to pay needs a due date (the capture has no payment terms field).
    var somethingDue = lineRows(form).some(function (row) {
      return DECIMAL.test(row.price) && Number(row.price.replace(",", ".")) > 0 && DECIMAL.test(row.quantity) && Number(row.quantity.replace(",", ".")) > 0;
    });
    if (due && !validDate(due)) add("due_date", "La date d'échéance n'est pas une date valide.");
    else if (!due && alreadyPaid) add("due_date", "Pour une facture déjà payée, indiquez la date du paiement.");
    else if (!due && !creditNote && somethingDue) add("due_date", "La date d'échéance est obligatoire.");
    else if (due && issue && validDate(issue) && !alreadyPaid && due < issue) add("due_date", "La date d'échéance ne peut pas précéder la date de la facture.");

    // A line counts once anything is in it (the server keeps it then); an empty price is 0 €.
    var used = lineRows(form).filter(function (row) { return row.description || row.quantity || row.price; });
    if (!used.length) add("line-0-description", "Ajoutez au moins une ligne (désignation, quantité, prix).");
    used.forEach(function (row) {
      var where = "Ligne " + (row.index + 1) + " : ";
      var name = "line-" + row.index + "-";
      if (!row.description) add(name + "description", where + "la désignation est obligatoire.");
      if (!row.quantity) add(name + "quantity", where + "la quantité doit être supérieure à zéro.");
      else if (!DECIMAL.test(row.quantity)) add(name + "quantity", where + "la quantité doit être un nombre (ex. 2 ou 1,5).");
      else if (Number(row.quantity.replace(",", ".")) <= 0) add(name + "quantity", where + "la quantité doit être supérieure à zéro.");
      else if (Number(row.quantity.replace(",", ".")) >= MAX_QUANTITY) add(name + "quantity", where + "quantité trop grande.");
      else if (decimals(row.quantity) > MAX_DECIMALS) add(name + "quantity", where + "la quantité a au plus 4 décimales.");
      if (!row.price) return;
      if (!DECIMAL.test(row.price)) add(name + "unit_price", where + "le prix unitaire doit être un nombre (ex. 480 ou 480,50).");
      else if (Number(row.price.replace(",", ".")) < 0) add(name + "unit_price", where + "le prix unitaire ne peut pas être négatif.");
      else if (Number(row.price.replace(",", ".")) >= MAX_PRICE) add(name + "unit_price", where + "prix unitaire trop grand.");
      else if (decimals(row.price) > MAX_DECIMALS) add(name + "unit_price", where + "le prix unitaire a au plus 4 décimales.");
    });
    used.forEach(function (row) {  // after the amounts: the line's VAT
      if (Number(row.rate.replace(",", ".")) === 0 && row.exemption && !row.exemption.value) {
        add("line-" + row.index + "-exemption_code", "Ligne " + (row.index + 1) + " : avec un taux de 0 %, choisissez le motif d'exonération de TVA.");
      }
    });

    // Whatever else the page marks as required (the service or the engagement an entity demands).
    Array.prototype.forEach.call(form.querySelectorAll("[required]"), function (field) {
      if (!field.name || (field.value || "").trim() || found.some(function (p) { return p.field === field.name; })) return;
      add(field.name, labelOf(field) + " : ce champ est obligatoire.");
    });
    return found;
  }

  function clear(form) {
    var box = document.getElementById("device-check");
    if (box) box.remove();
    Array.prototype.forEach.call(form.querySelectorAll("[data-device-error]"), function (node) { node.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid][data-device-invalid]"), function (node) {
      node.removeAttribute("aria-invalid");
      node.removeAttribute("data-device-invalid");
      var wrapper = node.closest(".field");
      if (wrapper) wrapper.classList.remove("has-error");
    });
  }

  // The list above the button, each problem beside its field too; focus on the first field.
  function show(form, list) {
    clear(form);
    if (!list.length) return;
    var box = document.createElement("div");
    box.id = "device-check";
    box.className = "form-error";
    box.setAttribute("role", "alert");
    var intro = document.createElement("p");
    intro.textContent = list.length > 1 ? "Avant l'envoi, " + list.length + " points sont à corriger :" : "Avant l'envoi, un point est à corriger :";
    box.appendChild(intro);
    var ul = document.createElement("ul");
    list.forEach(function (problem) {
      var li = document.createElement("li");
      li.textContent = problem.message;
      ul.appendChild(li);
      var field = form.elements[problem.field];
      if (field instanceof RadioNodeList) field = field[0];
      if (!field || field.type === "hidden") field = problem.field === "recipient_siret" ? document.getElementById("recipient-q") : field;
      if (!field || field.type === "hidden" || field.hasAttribute("data-device-invalid")) return;
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("data-device-invalid", "");
      var wrapper = field.closest(".field");
      if (wrapper) wrapper.classList.add("has-error");
      var note = document.createElement("p");
      note.className = "field-error";
      note.setAttribute("data-device-error", "");
      note.textContent = problem.message;
      (wrapper || field.parentNode).appendChild(note);
    });
    box.appendChild(ul);
    var button = form.querySelector("button[type=submit]");
    button.parentNode.insertBefore(box, button);
    var first = form.querySelector("[data-device-invalid]");
    if (first) first.focus(); else box.scrollIntoView({ block: "center" });
  }

  // Before anything else handles the send (offline.js queues it): a capture-phase listener.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.id !== "capture-form") return;
    var list = problems(form);
    show(form, list);
    if (!list.length) return;
    event.preventDefault();
    event.stopImmediatePropagation();
  }, true);

  window.FacteurCaptureCheck = { problems: problems, show: show };
})();

// A photo or file kept with the draft on the server (draft_files.py) leaves its field: the
// send then carries only what could not be uploaded (no network), never a second copy.
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (event) {
    var field = event.detail.elt;
    if (event.detail.successful && field && field.hasAttribute && field.hasAttribute("data-draft-upload")) field.value = "";
  });
})();
