// The people picker: search narrows the list; each change asks the policy (the preview endpoint)
// whether this choice may start a conversation, so a refusal is explained before sending.
import { api } from "../web/trygg.js";

const form = document.querySelector("form[data-picker]");
if (form) {
  const search = form.querySelector("[data-picker-search]");
  const none = form.querySelector("[data-picker-none]");
  const verdict = form.querySelector("[data-picker-verdict]");
  const schoolOwned = form.querySelector("#school_owned");
  let asked = 0;

  function filter() {
    const needle = search.value.trim().toLowerCase().replace(/\s+/g, " ");
    let shown = 0;
    for (const group of form.querySelectorAll("[data-picker-group]")) {
      let inGroup = 0;
      for (const item of group.querySelectorAll("[data-picker-item]")) {
        const checked = item.querySelector("input").checked;
        const match = !needle || item.dataset.search.includes(needle) || checked;
        item.hidden = !match;
        if (match) inGroup += 1;
      }
      group.hidden = inGroup === 0;
      shown += inGroup;
    }
    none.hidden = shown !== 0;
  }

  const titleField = form.querySelector("[data-picker-title]");

  // A title is for a group: the field shows once two or more people are chosen.
  function showTitle() {
    const chosen = form.querySelectorAll("input[name=members]:checked").length;
    if (titleField) titleField.hidden = chosen < 2 && !form.querySelector("#title").value;
  }

  async function explain() {
    showTitle();
    const members = [...form.querySelectorAll("input[name=members]:checked")].map((input) => input.value);
    const ticket = ++asked;
    if (!members.length) {
      verdict.replaceChildren();
      return;
    }
    try {
      const answer = await api("/api/v1/conversations/preview", {
        method: "POST",
        body: {
          kind: members.length === 1 ? "direct" : "group",
          member_usernames: members,
          school_owned: Boolean(schoolOwned && schoolOwned.checked),
        },
      });
      if (ticket !== asked) return;
      verdict.replaceChildren();
      verdict.classList.toggle("refusal", !answer.allowed);
      if (!answer.allowed) {
        const reason = document.createElement("p");
        reason.textContent = answer.reason;
        verdict.append(reason);
        // Rule ids help staff find the guideline; pupils and guardians read the reason alone.
        if (form.dataset.showRule && answer.rule) {
          const rule = document.createElement("p");
          rule.className = "rule-ref";
          rule.textContent = `${form.dataset.ruleWord}: ${answer.rule}${answer.requirement ? ` (${answer.requirement})` : ""}`;
          verdict.append(rule);
        }
      }
      for (const nudge of answer.nudges || []) {
        const p = document.createElement("p");
        p.className = "nudge";
        p.textContent = nudge.message;
        verdict.append(p);
      }
    } catch (_error) {
      if (ticket === asked) verdict.replaceChildren();
    }
  }

  search.addEventListener("input", filter);
  showTitle();
  form.addEventListener("change", (event) => {
    if (event.target.name === "members" || event.target === schoolOwned) explain();
  });
  filter();
}
