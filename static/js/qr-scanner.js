/*
 * QR camera scanner, dependency-free ES2017. Decodes with the native
 * BarcodeDetector when it supports QR, else with the vendored jsQR
 * (load static/vendor/jsqr/jsQR.js before this file).
 *   const s = QrScanner.start(videoEl, onResult, onError); s.stop();
 *   onResult(text): called at most once, after the camera was stopped.
 *   onError(reason): "unsupported" | "denied" | "no_camera" | "other".
 * No inline JS needed (strict CSP): see wire() for the data-qr-* contract.
 */
(function () {
  "use strict";

  const MAX_SIDE = 640;    // jsQR cost grows with pixels; 640 px is ample for a QR.
  const INTERVAL_MS = 125; // ~8 fps: responsive enough, easy on phone batteries.

  function errorReason(err) {
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") return "denied";
    if (name === "NotFoundError" || name === "DevicesNotFoundError") return "no_camera";
    return "other";
  }

  // Returns an async function(video) -> decoded text or null.
  async function makeDecoder() {
    if ("BarcodeDetector" in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.indexOf("qr_code") !== -1) {
          const detector = new window.BarcodeDetector({formats: ["qr_code"]});
          return async (video) => {
            const codes = await detector.detect(video);
            return codes.length ? codes[0].rawValue : null;
          };
        }
      } catch (e) { /* broken native implementation: fall back to jsQR */ }
    }
    if (typeof window.jsQR !== "function") return null;
    const canvas = document.createElement("canvas");
    // willReadFrequently keeps the canvas on the CPU, making getImageData cheap.
    const ctx = canvas.getContext("2d", {willReadFrequently: true});
    return async (video) => {
      const w = video.videoWidth, h = video.videoHeight;
      if (!w || !h) return null;
      const scale = Math.min(1, MAX_SIDE / Math.max(w, h));
      const cw = Math.round(w * scale), ch = Math.round(h * scale);
      if (canvas.width !== cw || canvas.height !== ch) { canvas.width = cw; canvas.height = ch; }
      ctx.drawImage(video, 0, 0, cw, ch);
      const img = ctx.getImageData(0, 0, cw, ch);
      // Payment QRs are dark-on-light; skipping the inverted pass halves the work.
      const code = window.jsQR(img.data, cw, ch, {inversionAttempts: "dontInvert"});
      return code ? code.data : null;
    };
  }

  function start(video, onResult, onError) {
    let stream = null, timer = null, stopped = false, decode = null;

    function stop() {
      stopped = true;
      clearTimeout(timer);
      if (stream) stream.getTracks().forEach((t) => t.stop()); // turns the camera light off
      stream = null;
      video.srcObject = null;
      document.removeEventListener("visibilitychange", onVisibility);
      window.removeEventListener("pagehide", stop);
    }
    function onVisibility() { if (document.visibilityState === "hidden") stop(); }
    function fail(reason) { if (!stopped) { stop(); if (onError) onError(reason); } }
    async function tick() {
      if (stopped) return;
      let text = null;
      try {
        if (video.readyState >= 2) text = await decode(video); // HAVE_CURRENT_DATA
      } catch (e) { /* one bad frame (e.g. during rotation) is not fatal */ }
      if (stopped) return;
      if (text) { stop(); onResult(text); return; }
      timer = setTimeout(tick, INTERVAL_MS);
    }

    // Don't keep the camera on for a page the user has left (or that goes to bfcache).
    document.addEventListener("visibilitychange", onVisibility);
    window.addEventListener("pagehide", stop);

    const md = navigator.mediaDevices;
    // mediaDevices is undefined outside secure contexts (plain http on a LAN IP).
    if (!md || !md.getUserMedia || (!("BarcodeDetector" in window) && typeof window.jsQR !== "function")) {
      Promise.resolve().then(() => fail("unsupported"));
      return {stop};
    }
    // iOS Safari: without playsinline the video opens fullscreen; muted allows
    // play() without another gesture. Set before attaching the stream.
    video.setAttribute("playsinline", "");
    video.setAttribute("muted", "");
    video.playsInline = true;
    video.muted = true;

    // getUserMedia is called synchronously here so it runs inside the user gesture.
    md.getUserMedia({video: {facingMode: "environment"}, audio: false}).then(async (s) => {
      if (stopped) { s.getTracks().forEach((t) => t.stop()); return; }
      stream = s;
      video.srcObject = s;
      await video.play();
      decode = await makeDecoder();
      if (!decode) { fail("unsupported"); return; }
      tick();
    }, (err) => fail(errorReason(err))).catch(() => fail("other"));

    return {stop};
  }

  /*
   * Declarative wire-up. Markup:
   *   <div data-qr-scanner [data-qr-target-input="#id"]
   *        data-qr-msg-invalid=".." data-qr-msg-unsupported=".." data-qr-msg-denied=".."
   *        data-qr-msg-no-camera=".." data-qr-msg-other=".." [data-qr-fallback="#details-id"]>
   *     <video></video> <button type="button" data-qr-start>..</button> <p data-qr-message></p>
   *   </div>
   * The root gets data-qr-state="scanning" | "done" | "error" for CSS.
   */
  function wire(root) {
    const video = root.querySelector("video");
    const button = root.querySelector("[data-qr-start]");
    const message = root.querySelector("[data-qr-message]");
    if (!video || !button) return;
    let scanner = null;
    const say = (key) => { if (message) message.textContent = root.getAttribute("data-qr-msg-" + key) || ""; };

    function onResult(text) {
      root.setAttribute("data-qr-state", "done");
      const selector = root.getAttribute("data-qr-target-input");
      const input = selector && document.querySelector(selector);
      if (input) {
        input.value = text;
        const form = input.form;
        if (form) { if (form.requestSubmit) form.requestSubmit(); else form.submit(); }
        return;
      }
      let url = null;
      try { url = new URL(text); } catch (e) { /* not an absolute URL */ }
      // Only follow our own links: a QR code is untrusted input.
      if (url && url.origin === window.location.origin) { window.location.assign(url.href); return; }
      root.setAttribute("data-qr-state", "error");
      say("invalid");
    }
    // No camera: open the typed alternative (data-qr-fallback, e.g. the passcode) by itself.
    const openFallback = () => {
      const fallback = document.querySelector(root.getAttribute("data-qr-fallback") || "none");
      if (!fallback) return;
      fallback.open = true;
      const input = fallback.querySelector("input:not([type=hidden])");
      if (input) input.focus();
    };
    const onError = (reason) => {
      root.setAttribute("data-qr-state", "error");
      say(reason.replace("_", "-"));
      openFallback();
    };
    // Only start after a tap: iOS requires a user gesture for the camera.
    button.addEventListener("click", (ev) => {
      ev.preventDefault(); // the button may sit inside the target form
      if (scanner) scanner.stop();
      if (message) message.textContent = "";
      root.setAttribute("data-qr-state", "scanning");
      scanner = start(video, onResult, onError);
    });
  }

  function wireAll() { document.querySelectorAll("[data-qr-scanner]").forEach(wire); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wireAll);
  else wireAll();

  window.QrScanner = {start};
})();
