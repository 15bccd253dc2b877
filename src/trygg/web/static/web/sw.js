// Trygg's service worker. The server prepends VERSION, SHELL (the URLs to keep) and OFFLINE_URL.
// It keeps only the shell: pages carry names and messages and are never stored on the device.
const CACHE = `trygg-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { credentials: "omit" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith("trygg-shell-") && key !== CACHE)
        .map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // The network first, always: a page must be current and is never kept. Without a connection
    // the offline page says so instead of the browser's own error.
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(fetch(request).catch(() => caches.match(url.pathname)));
  }
});

// Only a path inside Trygg may be opened from a notification.
function safePath(value) {
  try {
    const url = new URL(value || "/", self.location.origin);
    return url.origin === self.location.origin ? url.pathname + url.search : "/";
  } catch (_error) {
    return "/";
  }
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (_error) {
    data = {};
  }
  // The server sends neutral words only (who wrote, or what, never leaves Trygg).
  const tag = data.tag || "trygg";
  event.waitUntil(self.registration.showNotification(data.title || "Trygg", {
    body: data.body || "",
    tag,
    renotify: true,
    icon: SHELL.find((u) => u.endsWith("icon-192.png")),
    badge: SHELL.find((u) => u.endsWith("badge-96.png")),
    data: { url: safePath(data.url) },
  }).then(() => tellWindows(tag)));
  if (typeof data.count === "number" && self.navigator.setAppBadge) {
    self.navigator.setAppBadge(data.count).catch(() => {});
  }
});

// Open Trygg windows hear that a notice was shown, so their counts and title catch up at once.
async function tellWindows(tag) {
  const [shown] = await self.registration.getNotifications({ tag });
  const notification = shown ? { title: shown.title, body: shown.body, tag: shown.tag, url: shown.data.url } : null;
  const windows = await self.clients.matchAll({ type: "window" });
  for (const client of windows) client.postMessage({ type: "trygg.push", notification });
}

// What a click on a notification opens: its own path inside Trygg, or the home page.
function clickTarget(notification) {
  return new URL(safePath(notification.data && notification.data.url), self.location.origin).href;
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = clickTarget(event.notification);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => client.url === target && "focus" in client);
      return open ? open.focus() : self.clients.openWindow(target);
    }),
  );
});
