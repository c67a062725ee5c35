/*
 * A running clock (Tokyo time) on completion screens: a screenshot of an old payment shows a
 * frozen time, so staff can tell it from a live page. Markup: <time data-live-clock>.
 */
(function () {
  "use strict";
  const fmt = new Intl.DateTimeFormat("ja-JP", {
    timeZone: "Asia/Tokyo", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  function tick() {
    const text = fmt.format(new Date());
    document.querySelectorAll("[data-live-clock]").forEach((el) => { el.textContent = text; });
  }
  tick();
  setInterval(tick, 1000);
})();
