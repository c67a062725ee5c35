/*
 * Disables a [data-submit-once] button after its form is submitted, so a double tap sends one
 * request. The server's idempotency key is the real guard; this only spares a second request.
 */
(function () {
  "use strict";
  document.querySelectorAll("[data-submit-once]").forEach((button) => {
    const form = button.form;
    if (!form) return;
    form.addEventListener("submit", () => {
      setTimeout(() => { button.disabled = true; }, 0); // after the browser has read the form
    });
  });
})();
