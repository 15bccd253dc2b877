// The conversation list: new conversations and unread counts follow the event stream live.
import { api } from "../web/trygg.js";
import { EventStream } from "./events.js";

const root = document.getElementById("chat-list");
if (root) {
  const list = root.querySelector(".conversation-list");
  const t = root.dataset;

  // A row as the server draws it: avatar, title (with the other person's role), time, preview, unread.
  function buildRow(conv) {
    const row = document.createElement("li");
    row.className = "conversation-item";
    row.dataset.conversationId = String(conv.id);
    const link = document.createElement("a");
    link.className = "conversation-row";
    link.href = `/messages/${Number(conv.id)}/`;
    const avatar = document.createElement("span");
    avatar.setAttribute("aria-hidden", "true");
    avatar.dataset.testid = "avatar";
    const text = document.createElement("span");
    text.className = "conversation-text";
    const top = document.createElement("span");
    top.className = "conversation-line";
    const title = document.createElement("span");
    title.className = "conversation-title";
    title.dataset.testid = "conversation-title";
    const time = document.createElement("time");
    time.className = "conversation-time";
    top.append(title, " ", time);
    const bottom = document.createElement("span");
    bottom.className = "conversation-line";
    const preview = document.createElement("span");
    preview.className = "conversation-preview";
    preview.dataset.testid = "preview";
    const unread = document.createElement("span");
    unread.className = "unread visually-hidden";
    unread.dataset.unread = "0";
    unread.textContent = "0";
    bottom.append(preview, " ", unread);
    text.append(top, bottom);
    link.append(avatar, text);
    const meta = document.createElement("span");
    meta.className = "conversation-meta";
    const badge = document.createElement("span");
    badge.className = "badge " + (conv.school_owned ? "badge-school" : "badge-social");
    badge.textContent = conv.school_owned ? t.school : t.social;
    meta.append(badge, " ", conv.ownership);
    row.append(link, meta);
    fill(row, conv);
    list.querySelector("li:not([data-conversation-id])")?.remove();
    list.prepend(row);
    return row;
  }

  // Title, avatar, time and preview come from the API, which applies who may see whose name.
  function fill(row, conv) {
    const avatar = row.querySelector("[data-testid=avatar]");
    avatar.className = `avatar avatar-${Number(conv.avatar?.colour) || 0}`;
    avatar.textContent = conv.avatar?.initials || "?";
    row.querySelector(".conversation-title").textContent =
      conv.display_title || conv.title || (conv.kind === "direct" ? t.direct : t.group);
    const time = row.querySelector(".conversation-time");
    const preview = row.querySelector(".conversation-preview");
    if (conv.last_message) {
      preview.textContent = conv.last_message.preview;
      time.dateTime = String(conv.last_message.at).replace(/(\.\d{3})\d+/, "$1");
      time.textContent = t.now;
    } else {
      preview.textContent = t.empty;
    }
  }

  async function rowFor(conversationId, conv) {
    const existing = list.querySelector(`li[data-conversation-id="${Number(conversationId)}"]`);
    if (existing) return existing;
    // The frame's copy is the same for every member; the API's has the title this person may see.
    const data = (await api(`/api/v1/conversations/${Number(conversationId)}`).catch(() => null)) || conv;
    return data ? buildRow(data) : null;
  }

  new EventStream(root.dataset.latestEventId, async (frame) => {
    if (frame.type === "conversation.created") {
      await rowFor(frame.conversation_id, frame.conversation);
      return;
    }
    if (frame.type !== "message.new" && frame.type !== "conversation.read") return;
    const row = await rowFor(frame.conversation_id);
    if (!row) return;
    const badge = row.querySelector(".unread");
    if (frame.type === "conversation.read") {
      badge.dataset.unread = "0";
      badge.textContent = "0";
      badge.classList.add("visually-hidden");
    } else {
      const fresh = await api(`/api/v1/conversations/${Number(frame.conversation_id)}`).catch(() => null);
      if (fresh) fill(row, fresh);
      list.prepend(row);
      if (String(frame.message.sender.id) === t.me) return;
      const n = Number(badge.dataset.unread || 0) + 1;
      badge.dataset.unread = String(n);
      badge.textContent = t.unread.replace("{n}", String(n));
      badge.classList.remove("visually-hidden");
      list.prepend(row);
    }
  }, (state) => { root.dataset.socket = state; });
}
