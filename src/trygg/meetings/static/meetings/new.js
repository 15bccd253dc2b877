// Calling a meeting: show the fields the chosen kind needs, and check the invitation while typing
// (R-MEET-12), pointing at each finding. The server checks again when the form is sent.
import { api } from "../web/trygg.js";

const form = document.getElementById("new-meeting");
if (form) setUp(form);

function setUp(form) {
  const t = document.getElementById("meeting-strings").dataset;
  const kind = document.getElementById("kind");
  const result = document.getElementById("check-result");
  const talkFields = form.querySelector(".for-talk");
  const classFields = form.querySelector(".for-class");
  const field = (name) => form.elements.namedItem(name);
  let timer = null;

  function showFields() {
    const talk = kind.value === "development_talk";
    talkFields.hidden = !talk;
    classFields.hidden = talk;
  }

  async function check() {
    const body = {
      kind: kind.value,
      title: field("title").value,
      invitation_text: field("invitation_text").value,
      student_username: kind.value === "development_talk" ? field("student_username").value || null : null,
      class_id: kind.value === "development_talk" ? null : Number(field("class_id").value) || null,
    };
    if (!body.title && !body.invitation_text) { result.replaceChildren(); return; }
    let answer;
    try { answer = await api("/api/v1/meetings/check-invitation", { method: "POST", body }); } catch { return; }
    result.replaceChildren();
    if (answer.ok) {
      const ok = document.createElement("p");
      ok.className = "ok";
      ok.textContent = t.ok;
      result.append(ok);
      return;
    }
    const message = document.createElement("p");
    message.className = "error";
    message.textContent = answer.message;
    const list = document.createElement("ul");
    list.className = "findings";
    for (const finding of answer.findings) {
      const item = document.createElement("li");
      item.dataset.type = finding.type;
      const mark = document.createElement("mark");
      mark.textContent = finding.text;
      item.append(mark, ` — ${t[finding.type] || finding.type}`);
      list.append(item);
    }
    result.append(message, list);
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  }

  kind.addEventListener("change", () => { showFields(); later(); });
  for (const name of ["title", "invitation_text", "student_username", "class_id"]) {
    const input = field(name);
    if (input) input.addEventListener("input", later);
  }
  showFields();
}
