// Turning push notices on for this device: ask the browser, subscribe with Trygg's VAPID key, and
// tell Trygg the subscription. Turning off is a plain form per device (it works without script).
import { api } from "./trygg.js";

const button = document.querySelector("[data-push-on]");
const status = document.querySelector("[data-push-status]");
const texts = document.querySelector("[data-push-texts]");

function say(key) {
  status.textContent = texts.dataset[key];
}

function keyBytes(base64url) {
  const padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

// A label the person recognises in their device list, e.g. "Chrome · Android".
function deviceLabel() {
  const data = navigator.userAgentData;
  if (data && data.brands) {
    const brand = data.brands.find((b) => !/Not.?A.?Brand|Chromium/i.test(b.brand)) || data.brands[0];
    return `${brand ? brand.brand : "Browser"} · ${data.platform || ""}`.trim();
  }
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? "Firefox" : /Edg\//.test(ua) ? "Edge" : /Chrome\//.test(ua) ? "Chrome"
    : /Safari\//.test(ua) ? "Safari" : "Browser";
  const system = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS/.test(ua) ? "macOS"
    : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return `${browser} · ${system}`;
}

async function turnOn() {
  button.disabled = true;
  try {
    if ((await Notification.requestPermission()) !== "granted") {
      say("denied");
      return;
    }
    const registration = await navigator.serviceWorker.ready;
    const { public_key: key } = await api("/api/v1/push/key");
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(key),
    });
    await api("/api/v1/push/subscriptions", { method: "POST", body: { ...subscription.toJSON(), device: deviceLabel() } });
    say("on");
    window.location.reload();
  } catch (_error) {
    say("failed");
  } finally {
    button.disabled = false;
  }
}

// Is push already on for this very browser? Then say so instead of offering to turn it on.
async function onHere() {
  try {
    const registration = await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.getSubscription();
    if (!subscription) return false;
    const devices = await api("/api/v1/push/subscriptions");
    return devices.some((d) => d.endpoint === subscription.endpoint);
  } catch (_error) {
    return false;
  }
}

if (button) {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("unsupported");
  } else {
    button.addEventListener("click", turnOn);
    onHere().then((on) => {
      if (on) say("on");
      else button.hidden = false;
    });
  }
}
