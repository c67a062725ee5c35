/*
 * 入金 feed: polls the store's payments every two seconds and adds each new one on top, so
 * staff can confirm a resident's payment without trusting the resident's screen.
 * Markup: <ul data-feed data-feed-url data-cancelled-label data-error-label>.
 */
(function () {
  "use strict";
  const list = document.querySelector("[data-feed]");
  if (!list) return;
  const empty = document.querySelector("[data-feed-empty]");
  const errorBox = document.querySelector("[data-feed-error]");
  const rows = new Map(); // number -> <li>
  let first = true;

  function render(p) {
    let li = rows.get(p.number);
    if (!li) {
      li = document.createElement("li");
      const link = document.createElement("a");
      link.href = p.url;
      ["time", "amount", "mode"].forEach((cls) => {
        const span = document.createElement("span");
        span.className = "feed-" + cls;
        link.appendChild(span);
      });
      li.appendChild(link);
      li.setAttribute("data-number", p.number);
      if (!first) li.classList.add("is-new");
      rows.set(p.number, li);
    }
    li.querySelector(".feed-time").textContent = p.time;
    li.querySelector(".feed-amount").textContent = p.amount_display;
    li.querySelector(".feed-mode").textContent = p.cancelled ? list.getAttribute("data-cancelled-label") : p.mode;
    li.classList.toggle("is-cancelled", p.cancelled);
    return li;
  }

  async function poll() {
    try {
      const response = await fetch(list.getAttribute("data-feed-url"), {credentials: "same-origin"});
      if (response.redirected || !response.ok) throw new Error("status " + response.status);
      const data = await response.json();
      // Newest first from the server; re-appending keeps the DOM in that order.
      data.payments.forEach((p) => list.appendChild(render(p)));
      if (empty) empty.hidden = rows.size > 0;
      errorBox.hidden = true;
      first = false;
    } catch (e) {
      errorBox.textContent = list.getAttribute("data-error-label");
      errorBox.hidden = false;
    }
    setTimeout(poll, 2000);
  }
  poll();
})();
