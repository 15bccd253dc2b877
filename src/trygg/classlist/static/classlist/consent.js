// The consent page: before a guardian's first choice, the toggles wait until they have confirmed
// the notice that the class list is public (R-LIST-04). The server checks the same thing.

function guard(form) {
  const confirm = form.querySelector("[data-notice-read]");
  if (!confirm) return;
  const toggles = Array.from(form.querySelectorAll("input[data-field]")).filter((t) => !t.disabled);
  const update = () => {
    toggles.forEach((t) => {
      t.disabled = !confirm.checked;
      if (!confirm.checked) t.checked = false;
    });
  };
  confirm.addEventListener("change", update);
  update();
}

document.querySelectorAll("form[data-consent-form][data-first-time]").forEach(guard);
