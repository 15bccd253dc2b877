// One conversation: live messages over the event socket, nudges and refusals shown before sending.
// Message text is only ever set with textContent: nothing a person writes can become markup.
import { api } from "../web/trygg.js";
import { EventStream } from "./events.js";
import { attachmentNode, onAttachmentFrame, setUpAttachments } from "./attachments.js";

const root = document.getElementById("conversation");
if (root) setUp(root);

function setUp(root) {
  const conversationId = Number(root.dataset.conversationId);
  const me = Number(root.dataset.me);
  const isChannel = root.dataset.channel === "1";
  const t = document.getElementById("i18n-strings").dataset;
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const body = document.getElementById("body");
  const feedback = document.getElementById("composer-feedback");
  const replyTo = document.getElementById("reply_to");
  const replyInfo = document.getElementById("reply-info");
  const sendButton = document.getElementById("send");
  let readTimer = null;

  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  function render(message) {
    let item = list.querySelector(`li[data-message-id="${message.id}"]`);
    const fresh = !item;
    if (fresh) item = el("li");
    item.className = "message" + (message.sender.id === me ? " mine" : "") + (message.private_to ? " private" : "");
    item.dataset.messageId = String(message.id);
    item.dataset.senderId = String(message.sender.id);
    item.dataset.announcement = message.is_announcement ? "1" : "0";
    item.dataset.discussion = message.discussion_open ? "1" : "0";
    item.dataset.sensitive = message.sensitive ? "1" : "0";
    item.replaceChildren();
    const meta = el("p", "message-meta");
    meta.append(el("span", "sender", message.sender.name), " ");
    const time = el("time", "", spokenTime(new Date(message.created_at)));
    // HTML allows at most three digits of a second's fraction; the API sends six.
    time.dateTime = String(message.created_at).replace(/(\.\d{3})\d+/, "$1");
    meta.append(time);
    if (message.edited_at) meta.append(" ", el("span", "edited", `(${t.edited})`));
    if (message.private_to) meta.append(" ", el("span", "private-label", t.private));
    item.append(meta);
    if (message.deleted) {
      item.append(el("p", "body deleted", t.deleted));
    } else {
      item.append(message.sensitive ? sensitiveNode(message.id) : el("p", "body", message.body));
      if (message.attachment) item.append(attachmentNode(message.attachment));
      if (message.show_an_adult && message.sender.id !== me) item.append(showAnAdultOffer(message.id));
      // One's own message is not reported: "Report" and "Show an adult" are for what others wrote.
      if (message.sender.id !== me) menuOf(item).append(reportLink(message.id));
    }
    item.dataset.decorated = "";
    decorate(item);
    if (fresh) insertInOrder(item);
    return item;
  }

  // A sensitive message's text never comes over the socket: its reader opens it on its own page,
  // after confirming who they are (issue 17).
  function sensitiveNode(id) {
    const box = el("div", "body sensitive");
    box.dataset.testid = "sensitive";
    box.append(el("p", "", t.sensitive));
    const link = el("a", "button-small", t.readSensitive);
    link.href = `${root.dataset.messageUrl}${id}/`;
    box.append(link);
    return box;
  }

  // "today 08:14", "yesterday 17:02", else the date: as the server writes it on the page.
  function spokenTime(at) {
    const clock = at.toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
    const day = new Date(at.getFullYear(), at.getMonth(), at.getDate());
    const now = new Date();
    const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
    const days = Math.round((today - day) / 86400000);
    if (days === 0) return t.today.replace("{time}", clock);
    if (days === 1) return t.yesterday.replace("{time}", clock);
    return `${at.toLocaleDateString(document.documentElement.lang, { day: "numeric", month: "long" })} ${clock}`;
  }

  // Every message can be reported (R-SAFE-02, R-PUP-02: "show an adult" for young pupils).
  // A GET form, not a link: it opens the report page with the message id.
  function reportLink(id) {
    const form = el("form", "message-report");
    form.method = "get";
    form.action = root.dataset.reportUrl;
    const input = el("input");
    input.type = "hidden";
    input.name = "message";
    input.value = String(id);
    const button = el("button", "button-small report-link", t.report);
    button.type = "submit";
    form.append(input, button);
    return form;
  }

  // Issue 14 (R-PUP-02): a message read as a threat offers its receiver "show an adult" at once;
  // one press reports it, and the message is kept as evidence. The button works without script too.
  function showAnAdultOffer(id) {
    const box = el("div", "notice show-an-adult");
    box.dataset.testid = "show-an-adult";
    box.append(el("p", "", t.threatOffer));
    const button = el("button", "button-small button-primary", t.showAdult);
    button.type = "button";
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await api(`/api/v1/messages/${id}/show-an-adult`, { method: "POST", body: {} });
        box.replaceChildren(el("p", "", t.adultShown));
        box.setAttribute("role", "status");
      } catch (error) {
        button.disabled = false;
        showRefusal(error.data || { message: error.message });
      }
    });
    box.append(button);
    return box;
  }

  // A message's actions live behind one "⋯" button: a <details>, so it opens with Enter or Space
  // without script, and Escape closes it again (the focus goes back to the button).
  function menuOf(item) {
    let menu = item.querySelector(":scope > .message-menu");
    if (!menu) {
      menu = el("details", "message-menu");
      menu.dataset.testid = "message-menu";
      const summary = el("summary", "menu-button");
      summary.setAttribute("aria-label", t.menu);
      const dots = el("span", "", "⋯");
      dots.setAttribute("aria-hidden", "true");
      summary.append(dots);
      menu.append(summary, el("div", "menu-items"));
      item.append(menu);
    }
    return menu.querySelector(".menu-items");
  }

  function closeMenu(menu, focus) {
    if (!menu || !menu.open) return;
    menu.open = false;
    if (focus) menu.querySelector("summary").focus();
  }

  list.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeMenu(event.target.closest(".message-menu"), true);
  });
  document.addEventListener("click", (event) => {
    for (const menu of list.querySelectorAll(".message-menu[open]")) {
      if (!menu.contains(event.target)) closeMenu(menu, false);
    }
  });
  // One menu open at a time.
  // The menu opens leftwards from the button; only where that would leave the screen (a short
  // message at the left edge) does it open to the right.
  list.addEventListener("toggle", (event) => {
    const opened = event.target;
    if (!opened.open || !opened.classList.contains("message-menu")) return;
    for (const menu of list.querySelectorAll(".message-menu[open]")) if (menu !== opened) menu.open = false;
    const items = opened.querySelector(".menu-items");
    items.classList.remove("menu-right");
    if (items.getBoundingClientRect().left < 0) items.classList.add("menu-right");
  }, true);

  function insertInOrder(item) {
    const id = Number(item.dataset.messageId);
    const later = [...list.children].find((li) => Number(li.dataset.messageId) > id);
    list.insertBefore(item, later || null);
    item.scrollIntoView({ block: "nearest" });
  }

  function ownActions(item, actions) {
    if (Number(item.dataset.senderId) !== me || item.querySelector(".body.deleted")) return;
    const id = item.dataset.messageId;
    const edit = el("button", "button-small", t.edit);
    edit.type = "button";
    edit.addEventListener("click", () => {
      const text = item.querySelector(".body");
      const editor = el("textarea");
      editor.value = text.textContent;
      editor.setAttribute("aria-label", t.edit);
      editor.maxLength = Number(root.dataset.maxChars);
      const save = el("button", "button-small button-primary", t.save);
      save.type = "button";
      const cancel = el("button", "button-small", t.cancel);
      cancel.type = "button";
      const box = el("div", "edit-box");
      box.append(editor, save, cancel);
      text.hidden = true;
      text.after(box);
      closeMenu(item.querySelector(".message-menu"), false);
      editor.focus();
      cancel.addEventListener("click", () => { box.remove(); text.hidden = false; item.querySelector("summary")?.focus(); });
      const saveEdit = async () => {
        try {
          render(await api(`/api/v1/messages/${id}`, { method: "PATCH", body: { body: editor.value } }));
          feedback.replaceChildren();
        } catch (error) {
          showRefusal(error.data || { message: error.message });
        }
      };
      save.addEventListener("click", async () => {
        // An edit is read as a send is: the same nudges first (issue 14, R-STF-01, R-STAFF-05).
        try {
          const decision = await api(`/api/v1/messages/${id}/preview`, { method: "POST", body: { body: editor.value } });
          if (decision.nudges.length) { showNudges(decision.nudges, saveEdit); return; }
        } catch (error) {
          showRefusal(error.data || { message: error.message });
          return;
        }
        await saveEdit();
      });
    });
    const remove = el("button", "button-small button-danger", t.delete);
    remove.type = "button";
    let armed = false;
    remove.addEventListener("click", async () => {
      if (!armed) {
        armed = true;
        remove.textContent = t.confirmDelete;
        setTimeout(() => { armed = false; remove.textContent = t.delete; }, 4000);
        return;
      }
      try {
        render(await api(`/api/v1/messages/${id}`, { method: "DELETE" }));
      } catch (error) {
        showRefusal(error.data || { message: error.message });
      }
    });
    // A sensitive text is not on this page, so it cannot be edited here; it can be deleted.
    if (item.dataset.sensitive === "1") actions.append(remove);
    else actions.append(edit, remove);
  }

  function decorate(item) {
    if (item.dataset.decorated === "1") return;
    item.dataset.decorated = "1";
    const actions = menuOf(item);
    ownActions(item, actions);
    if (!isChannel || item.dataset.announcement !== "1") {
      if (!actions.childNodes.length) actions.closest(".message-menu").remove();
      return;
    }
    // Reply is the one thing a pupil can do in a class channel, so it stays in sight beside the
    // menu rather than inside it.
    const reply = el("button", "button-small reply-button", t.reply);
    reply.type = "button";
    reply.dataset.testid = "reply";
    reply.addEventListener("click", () => {
      replyTo.value = item.dataset.messageId;
      replyInfo.textContent = item.dataset.discussion === "1" || Number(item.dataset.senderId) === me ? t.replyOpen : t.replyPrivate;
      replyInfo.hidden = false;
      body.disabled = false;
      sendButton.disabled = false;
      body.focus();
    });
    const menu = actions.closest(".message-menu");
    item.append(reply);
    if (Number(item.dataset.senderId) === me) {
      const toggle = el("button", "button-small", item.dataset.discussion === "1" ? t.close : t.open);
      toggle.type = "button";
      toggle.addEventListener("click", async () => {
        const updated = await api(`/api/v1/messages/${item.dataset.messageId}/discussion`, {
          method: "POST", body: { open: item.dataset.discussion !== "1" } });
        render(updated);
      });
      actions.append(toggle);
    }
    if (!actions.childNodes.length) menu.remove();
  }

  list.querySelectorAll("li.message").forEach(decorate);
  setUpAttachments(conversationId);

  function markReadSoon(messageId) {
    clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      if (document.visibilityState === "visible") {
        api(`/api/v1/conversations/${conversationId}/read`, { method: "POST", body: { message_id: messageId } }).catch(() => {});
      }
    }, 300);
  }

  new EventStream(root.dataset.latestEventId, (frame) => {
    if (frame.conversation_id !== conversationId) return;
    if (frame.type === "message.new" || frame.type === "message.edited") {
      render(frame.message);
      if (frame.type === "message.new" && frame.message.sender.id !== me) markReadSoon(frame.message.id);
    } else if (frame.type === "message.deleted") {
      const item = list.querySelector(`li[data-message-id="${frame.message_id}"]`);
      if (item) {
        const text = item.querySelector(".body");
        text.hidden = false;
        text.className = "body deleted";
        text.textContent = t.deleted;
        item.querySelector(".edit-box")?.remove();
        item.querySelector(".message-menu")?.remove();
        item.querySelector(".attachment")?.remove();
      }
    } else if (frame.type.startsWith("attachment.")) {
      onAttachmentFrame(frame);
    }
  }, (state) => {
    root.dataset.socket = state;
    if (state === "closed") feedback.textContent = t.offline;
    else if (feedback.textContent === t.offline) feedback.textContent = "";
  });

  function showRefusal(data) {
    feedback.replaceChildren();
    const box = el("div", "error refusal");
    box.setAttribute("role", "alert");
    box.dataset.testid = "refusal";
    box.append(el("p", "", `${t.refused} ${data.message || data.reason || ""}`));
    // Rule ids are for staff (who may need to look the rule up); families read the reason only.
    if (data.rule && document.body.dataset.staff === "1") box.append(el("p", "rule-ref", `${data.rule}${data.requirement ? ` (${data.requirement})` : ""}`));
    feedback.append(box);
  }

  // Each nudge is its own entry, worded for the writer's age; self-harm adds the help lines of
  // the writer's country. Nothing of the draft is stored unless it is sent.
  function showNudges(nudges, onAnyway) {
    feedback.replaceChildren();
    const box = el("div", "notice nudge");
    box.dataset.testid = "nudge";
    for (const nudge of nudges) {
      const entry = el("div", "nudge-entry");
      entry.dataset.category = nudge.category || "other";
      entry.append(el("p", "", nudge.message));
      if (nudge.help_lines && nudge.help_lines.length) {
        const lines = el("ul", "help-lines");
        lines.dataset.testid = "help-lines";
        if (nudge.help_intro) entry.append(el("p", "", nudge.help_intro));
        for (const line of nudge.help_lines) {
          const li = el("li");
          const link = el("a", "", `${line.name}: ${line.number}`);
          link.href = `tel:${line.number.replace(/\s+/g, "")}`;
          li.append(link);
          if (line.text) li.append(" ", el("span", "hint", line.text));
          lines.append(li);
        }
        entry.append(lines);
      }
      box.append(entry);
    }
    const anyway = el("button", "button-small", t.sendAnyway);
    anyway.type = "button";
    anyway.addEventListener("click", () => onAnyway());
    const change = el("button", "button-small", t.editText);
    change.type = "button";
    change.addEventListener("click", () => { feedback.replaceChildren(); body.focus(); });
    box.append(anyway, " ", change);
    feedback.append(box);
    anyway.focus();
  }

  async function send(text) {
    const payload = { body: text, client_txn_id: crypto.randomUUID() };
    const sensitive = document.getElementById("sensitive");
    if (sensitive && sensitive.checked) payload.sensitive = true;
    if (replyTo.value) payload.reply_to = Number(replyTo.value);
    sendButton.disabled = true;
    try {
      // A retry after a network error reuses the txn id, so it can never send twice.
      let message;
      for (let attempt = 0; ; attempt++) {
        try {
          message = await api(`/api/v1/conversations/${conversationId}/messages`, { method: "POST", body: payload });
          break;
        } catch (error) {
          if (error.status || attempt >= 2) throw error;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      render(message);
      body.value = "";
      if (sensitive) sensitive.checked = false;
      feedback.replaceChildren();
      replyTo.value = "";
      replyInfo.hidden = true;
      if (document.getElementById("reply-only")) body.disabled = true;
    } catch (error) {
      showRefusal(error.data || { message: error.message });
    } finally {
      sendButton.disabled = body.disabled;
      body.focus();
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = body.value.trim();
    if (!text) return;
    const check = { body: text };
    if (replyTo.value) check.reply_to = Number(replyTo.value);
    let decision;
    try {
      decision = await api(`/api/v1/conversations/${conversationId}/messages/preview`, { method: "POST", body: check });
    } catch (error) {
      showRefusal(error.data || { message: error.message });
      return;
    }
    if (!decision.allowed) { showRefusal(decision); return; }
    if (decision.nudges.length) { showNudges(decision.nudges, () => send(text)); return; }
    await send(text);
  });

  body.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
}
