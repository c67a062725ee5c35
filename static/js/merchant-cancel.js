// 取消 confirmation: links marked data-cancel-dialog open the <dialog> filled from their data
// attributes and post its form to the link's data-action. Without JS the link opens the
// confirmation page instead.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-cancel-dialog]");
    if (!link) return;
    var dialog = document.querySelector(link.dataset.cancelDialog);
    if (!dialog || typeof dialog.showModal !== "function") return;
    event.preventDefault();
    var form = dialog.querySelector("[data-cancel-form]");
    form.action = link.dataset.action;
    ["created", "number", "amount"].forEach(function (name) {
      dialog.querySelector('[data-field="' + name + '"]').textContent = link.dataset[name];
    });
    form.querySelector("[name=memo]").value = "";
    dialog.showModal();
  });
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-dialog-close]");
    if (close) close.closest("dialog").close();
  });
  // One submit only: a double click must not send the cancellation twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-cancel-form]")) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
  });
})();
