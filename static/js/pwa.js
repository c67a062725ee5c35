// Installable pages: the service worker only shows the offline page when the network is down.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* pages work without it */ });
  });
}
