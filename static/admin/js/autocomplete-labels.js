// Django admin's autocomplete (Select2) draws a box named only by its selected text; give it
// the field's label, so screen readers say which field it is (WCAG 4.1.2). Select2 draws its
// boxes after page load and again when inlines are added: each new box is named as it appears.
"use strict";
(function () {
  function name(root) {
    root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = document.querySelector('label[for="' + select.id + '"]');
      if (!label) return;
      var text = label.textContent.replace(/[:：]\s*$/, "").trim();
      select.parentElement.querySelectorAll(".select2-selection, .select2-selection__rendered").forEach(
        function (el) {
          if (el.getAttribute("aria-label") === text) return;
          el.removeAttribute("aria-labelledby");
          el.setAttribute("aria-label", text);
        }
      );
    });
  }
  new MutationObserver(function () { name(document); }).observe(document.documentElement, {
    childList: true, subtree: true,
  });
})();
