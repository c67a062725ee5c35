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
