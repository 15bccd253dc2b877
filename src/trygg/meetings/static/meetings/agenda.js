// The organiser's agenda: warn about health topics while typing (R-MEET-19). A reminder, not a block.
import { api } from "../web/trygg.js";

const form = document.getElementById("agenda-form");
if (form) {
  const meetingId = form.dataset.meetingId;
  const field = document.getElementById("agenda");
  const warning = document.getElementById("agenda-warning");
  let timer = null;
  field.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      let answer;
      try {
        answer = await api(`/api/v1/meetings/${meetingId}/agenda/preview`, { method: "POST", body: { text: field.value } });
      } catch { return; }
      warning.replaceChildren();
      for (const nudge of answer.nudges) {
        const p = document.createElement("p");
        p.className = "notice";
        p.textContent = `${nudge.message} (${nudge.words.join(", ")})`;
        warning.append(p);
      }
    }, 300);
  });
}
