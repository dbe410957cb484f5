/* caseflow forms: validate as you type, in the page's language, with the browser's own
   constraints (required, pattern, min, max, maxlength) plus a few of the program's rules.
   Without this script the forms still work: the browser checks the same constraints and the
   server checks everything again. */
(function () {
  "use strict";

  function errorOf(field) {
    return document.getElementById(field.id + "-error");
  }

  function today() {
    var now = new Date();
    var month = String(now.getMonth() + 1).padStart(2, "0");
    var day = String(now.getDate()).padStart(2, "0");
    return now.getFullYear() + "-" + month + "-" + day;
  }

  function eighteenYearsAgo() {
    var now = new Date();
    var month = String(now.getMonth() + 1).padStart(2, "0");
    var day = String(now.getDate()).padStart(2, "0");
    return (now.getFullYear() - 18) + "-" + month + "-" + day;
  }

  function programRule(field, messages) {
    var value = field.value;
    if (!value) return "";
    if (field.hasAttribute("data-not-future") && value > today()) return messages.future;
    if (field.hasAttribute("data-child-birth") && value <= eighteenYearsAgo()) return messages.tooOld;
    return "";
  }

  function explain(field, messages) {
    var validity = field.validity;
    // A date's limits are the program's rules: say which one.
    if (validity.rangeOverflow && field.hasAttribute("data-not-future")) return messages.future;
    if (validity.rangeUnderflow && field.hasAttribute("data-child-birth")) return messages.tooOld;
    var kinds = ["valueMissing", "typeMismatch", "badInput", "patternMismatch", "tooLong",
                 "rangeUnderflow", "rangeOverflow"];
    for (var i = 0; i < kinds.length; i++) {
      if (validity[kinds[i]]) return messages[kinds[i]] || field.validationMessage;
    }
    return validity.customError ? field.validationMessage : "";
  }

  function check(field, messages) {
    if (!field.willValidate) return true;
    field.setCustomValidity(programRule(field, messages));
    var message = explain(field, messages);
    var out = errorOf(field);
    if (out) out.textContent = message;
    if (message) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
    return !message;
  }

  function disabilityRule(form) {
    // A parent with a severe disability needs the certificate's grade and kind.
    form.querySelectorAll("[data-disability-of]").forEach(function (box) {
      var situation = document.getElementById(box.getAttribute("data-disability-of"));
      var severe = situation && situation.value === "severe_disability";
      box.classList.toggle("hidden", !severe);
      box.querySelectorAll("select").forEach(function (select) {
        select.required = severe;
      });
    });
  }

  function mandatoryNote(form) {
    var note = form.querySelector("[data-mandatory-note]");
    if (!note) return;
    var any = form.querySelector("[data-concern]:checked") !== null;
    note.classList.toggle("hidden", !any);
  }

  function thresholdNote(form) {
    form.querySelectorAll("[data-threshold]").forEach(function (field) {
      var note = document.getElementById(field.getAttribute("data-threshold-note"));
      if (note) note.classList.toggle("hidden", !(Number(field.value) > Number(field.getAttribute("data-threshold"))));
    });
  }

  function setUp(form) {
    var messages = JSON.parse(form.getAttribute("data-messages") || "{}");
    form.noValidate = true; // our messages instead of the browser's bubbles
    var touched = new WeakSet();
    var refresh = function () { disabilityRule(form); mandatoryNote(form); thresholdNote(form); };
    refresh();
    form.addEventListener("input", function (event) {
      refresh();
      if (event.target.willValidate) { touched.add(event.target); check(event.target, messages); }
    });
    form.addEventListener("change", function (event) {
      refresh();
      if (event.target.willValidate) { touched.add(event.target); check(event.target, messages); }
    });
    form.addEventListener("focusout", function (event) {
      if (event.target.willValidate && touched.has(event.target)) check(event.target, messages);
    });
    form.addEventListener("submit", function (event) {
      refresh();
      var first = null;
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!check(field, messages) && first === null) first = field;
      });
      var summary = document.getElementById("form-summary");
      if (first !== null) {
        event.preventDefault();
        if (summary) summary.classList.remove("hidden");
        first.focus();
        return;
      }
      if (summary) summary.classList.add("hidden");
      var submitter = event.submitter;
      if (submitter && submitter.hasAttribute("data-needs-comment")) {
        var comment = form.querySelector("textarea[name=comment]");
        if (comment && !comment.value.trim()) {
          event.preventDefault();
          var out = errorOf(comment);
          if (out) out.textContent = submitter.getAttribute("data-needs-comment");
          comment.setAttribute("aria-invalid", "true");
          comment.focus();
          return;
        }
      }
      // Sent once: a second click while the page loads would only repeat the same request.
      form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (button) {
        window.setTimeout(function () { button.disabled = true; }, 0);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-validate]").forEach(setUp);
  });
})();
