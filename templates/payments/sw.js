{% autoescape off %}// Service worker (payments/pwa.py): a page that cannot load shows the offline page.
// Only page loads (GET navigations) are touched; nothing is stored for later, so a payment
// can never be queued or sent twice by this worker.
"use strict";
const CACHE = "{{ cache }}";
const OFFLINE = "{{ offline }}";
const ASSETS = [OFFLINE{% for url in assets %}, "{{ url }}"{% endfor %}];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
  );
  self.clients.claim();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE)));
  } else if (ASSETS.includes(new URL(request.url).pathname)) {
    event.respondWith(fetch(request).catch(() => caches.match(request)));
  }
});
{% endautoescape %}
