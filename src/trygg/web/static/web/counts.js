// What waits for the signed-in person, kept current: the menu's counts, the home page's list, the
// tab title and the app badge (Badging API where the browser has it). Any event on the person's
// stream may change a count, so each one (a burst counted once) asks the server for the counts.
import { EventStream } from "/static/messaging/events.js";
import { api } from "./trygg.js";

const script = document.querySelector("script[data-counts-script]");
const baseTitle = document.title.replace(/^\(\d+\)\s*/, "");
let pending = null;

function show(counts) {
  const total = Object.values(counts).reduce((sum, value) => sum + value, 0);
  for (const [key, value] of Object.entries({ ...counts, total })) {
    for (const holder of document.querySelectorAll(`[data-count="${key}"]`)) {
      holder.hidden = value === 0;
      for (const number of holder.querySelectorAll("[data-count-number]")) number.textContent = String(value);
    }
  }
  const waiting = document.querySelector("[data-waiting-none]");
  if (waiting) waiting.hidden = total !== 0;
  document.title = total ? `(${total}) ${baseTitle}` : baseTitle;
  if (navigator.setAppBadge) {
    (total ? navigator.setAppBadge(total) : navigator.clearAppBadge()).catch(() => {});
  }
}

async function refresh() {
  pending = null;
  try {
    const me = await api("/api/v1/me");
    show(me.counts);
  } catch (_error) {
    // Signed out or offline: the counts on the page stay as they were.
  }
}

function soon() {
  if (pending === null) pending = setTimeout(refresh, 250);
}

if (script) {
  new EventStream(script.dataset.eventsAfter, soon);
  // A push notice shown on this device: something changed.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "trygg.push") soon();
    });
  }
  // Coming back to the tab or the installed app: the counts may have changed while away.
  document.addEventListener("visibilitychange", () => { if (!document.hidden) soon(); });
  refresh();
}
