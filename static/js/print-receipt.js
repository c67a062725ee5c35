/*
 * [data-print-receipt="80"|"58"] prints the page's receipt on that paper width: the print CSS
 * (store.css) shows only the receipt, on a named @page of the width chosen here.
 */
(function () {
  "use strict";
  document.querySelectorAll("[data-print-receipt]").forEach((button) => {
    button.addEventListener("click", () => {
      document.documentElement.setAttribute("data-receipt-width", button.getAttribute("data-print-receipt"));
      window.print();
    });
  });
})();
