// The consent page: the switches work in any order. Before a guardian's first choice, turning a
// detail on needs the confirmation that the class list is public (R-LIST-04): saving without it
// points at the confirmation instead of failing. The server checks the same thing.

function guard(form) {
  const confirm = form.querySelector("[data-notice-read]");
  const needed = form.querySelector("[data-notice-needed]");
  if (!confirm || !needed) return;
  const toggles = Array.from(form.querySelectorAll("input[data-field]")).filter((t) => !t.disabled);
  form.addEventListener("submit", (event) => {
    if (!confirm.checked && toggles.some((t) => t.checked)) {
      event.preventDefault();
      needed.hidden = false;
      confirm.focus();
    }
  });
  confirm.addEventListener("change", () => { if (confirm.checked) needed.hidden = true; });
}

document.querySelectorAll("form[data-consent-form][data-first-time]").forEach(guard);
