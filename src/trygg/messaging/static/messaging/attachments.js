// Photos, sound and video in a conversation (R-PAR-02, R-STF-02, R-PUP-01): the attach form,
// what is waiting for permission, and the answers a pictured person (or their guardian) or a
// teacher can give. Names and captions are only ever set with textContent.
import { csrfToken } from "../web/trygg.js";

const strings = () => document.getElementById("attachment-strings")?.dataset || {};

const el = (tag, cls, text) => {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
};

async function request(path, { method = "GET", body, form } = {}) {
  const headers = { "X-CSRFToken": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers,
    body: form || (body === undefined ? undefined : JSON.stringify(body)),
  });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) {
    const error = new Error((data && data.message) || response.statusText);
    error.status = response.status;
    error.data = data;
    throw error;
  }
  return data;
}

function mediaNode(ref, cls) {
  const t = strings();
  let node;
  if (ref.kind === "image") {
    node = el("img", cls);
    node.alt = ref.caption || t.photo || "";
    node.loading = "lazy";
  } else {
    node = el(ref.kind === "audio" ? "audio" : "video", cls);
    node.controls = true;
    node.preload = "none";
    node.setAttribute("aria-label", ref.kind === "audio" ? t.sound : t.video);
  }
  node.src = ref.url;
  return node;
}

// The attachment on a message, as every reader of the message sees it.
export function attachmentNode(ref) {
  const t = strings();
  const box = el("div", "attachment");
  box.dataset.attachmentId = String(ref.id);
  if (ref.deleted || !ref.url) {
    box.append(el("p", "attachment-deleted", ref.delete_after_use ? t.deletedAfterUse : t.deleted));
    return box;
  }
  box.append(mediaNode(ref, "attachment-media"));
  if (ref.delete_after_use) box.append(el("p", "attachment-note", t.afterUse));
  return box;
}

function stateText(a) {
  const t = strings();
  if (a.status === "refused") return t.refused;
  if (a.status === "deleted") return t.deleted;
  if (a.status === "visible") return t.shared;
  if (a.waiting_for_permission) return t.waitingPermission;
  if (a.waiting_for_teacher) return t.waitingTeacher;
  return "";
}

function button(text, cls, onClick) {
  const b = el("button", `button-small ${cls || ""}`.trim(), text);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

// A held attachment as someone concerned sees it, with the answers they can give.
function pendingNode(a) {
  const t = strings();
  const item = el("li", "pending-attachment");
  item.dataset.attachmentId = String(a.id);
  item.dataset.status = a.status;
  item.dataset.testid = "pending-attachment";
  if (a.url) item.append(mediaNode(a, "attachment-thumb"));
  const box = el("div");
  box.append(el("p", "attachment-state", stateText(a)));
  if (a.pictured && a.pictured.length) {
    const people = el("ul", "pictured");
    for (const p of a.pictured) {
      const li = el("li");
      const label = { granted: t.permissionGranted, refused: t.permissionRefused }[p.status] || t.permissionPending;
      li.append(`${p.name}: `, el("span", `permission-${p.status}`, label));
      if (p.can_decide) {
        li.append(" ",
          button(t.grant, "button-primary", () => answer(a.id, "permission", { grant: true, person_username: p.username })),
          " ",
          button(t.refuse, "button-danger", () => answer(a.id, "permission", { grant: false, person_username: p.username })));
      }
      people.append(li);
    }
    box.append(people);
  }
  if (a.can_agree) {
    box.append(el("p", "", t.askedTeacher),
      button(t.agree, "button-primary", () => answer(a.id, "agreement", { agree: true })), " ",
      button(t.disagree, "button-danger", () => answer(a.id, "agreement", { agree: false })));
  }
  if (a.can_withdraw) {
    box.append(" ", button(t.withdraw, "", async () => {
      try { showPending(await request(`/api/v1/attachments/${a.id}`, { method: "DELETE" })); } catch (error) { showError(error); }
    }));
  }
  item.append(box);
  return item;
}

function pendingList() {
  return document.getElementById("pending-attachments");
}

export function showPending(a) {
  const list = pendingList();
  if (!list) return;
  const old = list.querySelector(`li[data-attachment-id="${a.id}"]`);
  const fresh = pendingNode(a);
  if (old) old.replaceWith(fresh); else list.prepend(fresh);
}

function showError(error) {
  const t = strings();
  const feedback = document.getElementById("attach-feedback");
  if (!feedback) return;
  const data = error.data || { message: error.message };
  feedback.replaceChildren();
  const box = el("div", "error refusal");
  box.setAttribute("role", "alert");
  box.dataset.testid = "attach-refusal";
  box.append(el("p", "", `${t.notSent} ${data.message || ""}`));
  // Rule ids are for staff (who may need to look the rule up); families read the reason only.
  if (data.rule && document.body.dataset.staff === "1") box.append(el("p", "rule-ref", `${data.rule}${data.requirement ? ` (${data.requirement})` : ""}`));
  feedback.append(box);
}

async function answer(id, what, body) {
  try {
    showPending(await request(`/api/v1/attachments/${id}/${what}`, { method: "POST", body }));
  } catch (error) {
    showError(error);
  }
}

// Frames of the event stream about attachments in this conversation.
export async function onAttachmentFrame(frame) {
  if (frame.type === "attachment.updated") {
    showPending(frame.attachment);
  } else if (frame.type === "attachment.permission_requested") {
    try { showPending(await request(`/api/v1/attachments/${frame.attachment_id}`)); } catch { /* not ours to see */ }
  }
}

export function setUpAttachments(conversationId) {
  const form = document.getElementById("attach-form");
  if (!form) return;
  const t = strings();
  const nobody = document.getElementById("attach-nobody");
  const pictured = document.getElementById("attach-pictured");
  const feedback = document.getElementById("attach-feedback");
  const sendButton = document.getElementById("attach-send");
  // The two ways to answer "who is in it?" exclude each other.
  nobody.addEventListener("change", () => {
    pictured.disabled = nobody.checked;
    if (nobody.checked) for (const option of pictured.options) option.selected = false;
  });
  function showCaptionNudges(nudges, onAnyway) {
    const box = document.createElement("div");
    box.className = "notice nudge";
    box.dataset.testid = "attach-nudge";
    for (const nudge of nudges) {
      const p = document.createElement("p");
      p.dataset.category = nudge.category || "other";
      p.textContent = nudge.message;
      box.append(p);
    }
    const anyway = document.createElement("button");
    anyway.type = "button";
    anyway.className = "button-small";
    anyway.textContent = document.getElementById("i18n-strings")?.dataset.sendAnyway || "OK";
    anyway.addEventListener("click", onAnyway);
    box.append(anyway);
    feedback.replaceChildren(box);
    anyway.focus();
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = [...pictured.selectedOptions].length;
    if (!chosen && !nobody.checked) {
      showError({ data: { message: t.choose } });
      pictured.focus();
      return;
    }
    const file = document.getElementById("attach-file").files[0];
    if (file && file.size > Number(form.dataset.maxBytes || Infinity)) {
      showError({ data: { message: t.tooLarge } });
      return;
    }
    // A caption is read as a message is (issue 14): its nudges first, then "send anyway".
    const caption = document.getElementById("attach-caption")?.value.trim();
    if (caption && form.dataset.nudged !== caption) {
      try {
        const decision = await request(`/api/v1/conversations/${conversationId}/messages/preview`, {
          method: "POST", body: { body: caption } });
        if (decision.nudges && decision.nudges.length) {
          showCaptionNudges(decision.nudges, () => { form.dataset.nudged = caption; form.requestSubmit(); });
          return;
        }
      } catch { /* the upload itself answers with any refusal */ }
    }
    const data = new FormData(form);
    data.delete("csrfmiddlewaretoken");
    data.append("client_txn_id", crypto.randomUUID());
    // A reply chosen in the composer (in a class channel, the way pupils answer) carries the file too.
    const replyTo = document.getElementById("reply_to")?.value;
    if (replyTo) data.set("reply_to", replyTo);
    if (!data.get("reply_to")) data.delete("reply_to");
    sendButton.disabled = true;
    try {
      const attachment = await request(`/api/v1/conversations/${conversationId}/attachments`, { method: "POST", form: data });
      feedback.replaceChildren();
      if (attachment.status === "pending") showPending(attachment);
      form.reset();
      delete form.dataset.nudged;
      pictured.disabled = false;
    } catch (error) {
      showError(error);
    } finally {
      sendButton.disabled = false;
    }
  });
  // The answer forms work without script; with it, they answer in place.
  pendingList()?.addEventListener("submit", async (event) => {
    const target = event.target;
    const item = target.closest("li[data-attachment-id]");
    if (!item) return;
    event.preventDefault();
    const id = item.dataset.attachmentId;
    const submitter = event.submitter;
    const action = target.getAttribute("action") || "";
    if (action.endsWith("/withdraw")) {
      try { showPending(await request(`/api/v1/attachments/${id}`, { method: "DELETE" })); } catch (error) { showError(error); }
    } else if (action.endsWith("/agreement")) {
      await answer(id, "agreement", { agree: submitter?.value === "yes" });
    } else {
      const person = target.querySelector("input[name=person]")?.value;
      await answer(id, "permission", { grant: submitter?.value === "yes", person_username: person || null });
    }
  });
}
