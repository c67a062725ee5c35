/*
 * The resident's CPM code: refreshes the QR before it expires (codes live 60 s) and polls
 * whether one of the codes shown was used; then opens the completion screen.
 * Markup: [data-cpm] with data-new-url, data-status-url, data-csrf, data-lifetime and an
 * <img data-cpm-image data-code data-nonce>.
 */
(function () {
  "use strict";
  const root = document.querySelector("[data-cpm]");
  if (!root) return;
  const img = root.querySelector("[data-cpm-image]");
  const bar = root.querySelector("[data-cpm-bar]");
  const lifetime = Number(root.getAttribute("data-lifetime")) * 1000;
  const REFRESH_AT = lifetime / 2; // a code is replaced at half its life: never shown stale
  const POLL_MS = 1500;
  let shown = [{nonce: img.getAttribute("data-nonce"), at: Date.now()}];
  let refreshing = false;

  async function refresh() {
    if (refreshing || document.visibilityState === "hidden") return;
    refreshing = true;
    try {
      const response = await fetch(root.getAttribute("data-new-url"), {
        method: "POST", credentials: "same-origin",
        headers: {"X-CSRFToken": root.getAttribute("data-csrf")},
      });
      if (response.redirected || !response.ok) { window.location.reload(); return; }
      const data = await response.json();
      img.src = data.qr;
      img.setAttribute("data-code", data.code);
      img.setAttribute("data-nonce", data.nonce);
      shown.push({nonce: data.nonce, at: Date.now()});
      shown = shown.filter((s) => Date.now() - s.at < lifetime + 5000);
    } catch (e) { /* offline for a moment: the next tick tries again */ }
    finally { refreshing = false; }
  }

  async function poll() {
    try {
      const query = shown.map((s) => "n=" + encodeURIComponent(s.nonce)).join("&");
      const response = await fetch(root.getAttribute("data-status-url") + "?" + query, {credentials: "same-origin"});
      if (response.ok) {
        const data = await response.json();
        if (data.paid_url) { window.location.assign(data.paid_url); return; }
      }
    } catch (e) { /* try again on the next tick */ }
    setTimeout(poll, POLL_MS);
  }

  function tick() {
    const latest = shown[shown.length - 1];
    const age = Date.now() - latest.at;
    if (bar) bar.style.width = Math.max(0, 100 - (age / REFRESH_AT) * 100) + "%";
    if (age >= REFRESH_AT) refresh();
  }
  setInterval(tick, 250);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") tick(); });
  setTimeout(poll, POLL_MS);
})();
