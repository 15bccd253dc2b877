// Small progressive enhancements shared by every page; everything works without it.
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form.requestSubmit());
}

// On a phone the menu sits behind one button; without script it is simply always open.
const menuToggle = document.querySelector("[data-menu-toggle]");
const siteMenu = document.getElementById("site-menu");
if (menuToggle && siteMenu) {
  document.documentElement.classList.add("has-menu-toggle");
  menuToggle.hidden = false;
  menuToggle.addEventListener("click", () => {
    const open = menuToggle.getAttribute("aria-expanded") !== "true";
    menuToggle.setAttribute("aria-expanded", String(open));
    siteMenu.classList.toggle("open", open);
  });
}

// The installable app: the service worker keeps the shell for starting without a connection.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
}

export function csrfToken() {
  // "__Host-csrftoken" under TRYGG_HTTPS=1, "csrftoken" otherwise.
  const match = document.cookie.match(/(?:^|;\s*)(?:__Host-)?csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) {
    const error = new Error(data && data.message ? data.message : response.statusText);
    error.status = response.status;
    error.data = data;
    throw error;
  }
  return data;
}
