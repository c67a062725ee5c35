// Narrow screens: each table row becomes a card, each cell labelled by its column's heading
// (data-label, drawn by merchant.css); the menu folds behind a button. Without JS, tables
// scroll sideways inside their card and the menu stays open.
(function () {
  "use strict";
  document.querySelectorAll(".m-table-wrap table").forEach(function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr, tfoot tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (heads[column] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[column]);
        column += cell.colSpan || 1;
      });
    });
    table.classList.add("m-stackable");
  });
  var toggle = document.querySelector("[data-menu-toggle]");
  if (toggle) {
    var menu = document.getElementById(toggle.getAttribute("aria-controls"));
    document.documentElement.classList.add("m-menu-folds");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("m-menu-open", open);
    });
  }
})();

// Forms marked data-confirm ask first in the page's confirmation <dialog> (管理ユーザ登録,
// 端末パスワード再発行), as the manual does. Without JS they submit at once.
(function () {
  "use strict";
  var dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var pending = null;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-confirm") || form.dataset.confirmed) return;
    event.preventDefault();
    pending = form;
    dialog.querySelector("[data-confirm-text]").textContent = form.getAttribute("data-confirm");
    dialog.showModal();
  });
  dialog.querySelector("[data-confirm-yes]").addEventListener("click", function () {
    dialog.close();
    if (!pending) return;
    pending.dataset.confirmed = "1";
    if (pending.requestSubmit) pending.requestSubmit(); else pending.submit();
  });
  dialog.querySelector("[data-confirm-no]").addEventListener("click", function () {
    pending = null;
    dialog.close();
  });
})();
