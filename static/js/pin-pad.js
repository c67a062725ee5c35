/*
 * The store device's numeric keypad for the customer's PIN: [data-pin-pad] holds a masked
 * [data-pin-input] and buttons [data-pin-key="7"], [data-pin-clear], [data-pin-back].
 * Without JS the input still takes digits from the device's own keyboard.
 */
(function () {
  "use strict";
  document.querySelectorAll("[data-pin-pad]").forEach((pad) => {
    const input = pad.querySelector("[data-pin-input]");
    if (!input) return;
    const max = parseInt(input.getAttribute("maxlength"), 10) || 8;
    pad.addEventListener("click", (ev) => {
      const button = ev.target.closest("button[type=button]");
      if (!button) return;
      if (button.hasAttribute("data-pin-key")) {
        if (input.value.length < max) input.value += button.getAttribute("data-pin-key");
      } else if (button.hasAttribute("data-pin-clear")) {
        input.value = "";
      } else if (button.hasAttribute("data-pin-back")) {
        input.value = input.value.slice(0, -1);
      }
    });
  });
})();
