// The conversation list: new conversations and unread counts follow the event stream live.
import { api } from "../web/trygg.js";
import { EventStream } from "./events.js";

const root = document.getElementById("chat-list");
if (root) {
  const list = root.querySelector(".conversation-list");
  const t = root.dataset;

  function buildRow(conv) {
    const row = document.createElement("li");
    row.dataset.conversationId = String(conv.id);
    const link = document.createElement("a");
    link.href = `/messages/${Number(conv.id)}/`;
    const title = document.createElement("span");
    title.className = "conversation-title";
    title.textContent = conv.title || (conv.kind === "direct" ? t.direct : t.group);
    const badge = document.createElement("span");
    badge.className = "badge " + (conv.school_owned ? "badge-school" : "badge-social");
    badge.textContent = conv.school_owned ? t.school : t.social;
    const unread = document.createElement("span");
    unread.className = "unread visually-hidden";
    unread.dataset.unread = "0";
    unread.textContent = "0";
    link.append(title, " ", badge, " ", unread);
    const meta = document.createElement("span");
    meta.className = "conversation-meta";
    meta.textContent = conv.ownership;
    row.append(link, meta);
    list.querySelector("li:not([data-conversation-id])")?.remove();
    list.prepend(row);
    return row;
  }

  async function rowFor(conversationId, conv) {
    const existing = list.querySelector(`li[data-conversation-id="${Number(conversationId)}"]`);
    if (existing) return existing;
    const data = conv || (await api(`/api/v1/conversations/${Number(conversationId)}`).catch(() => null));
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
    } else if (String(frame.message.sender.id) !== t.me) {
      const n = Number(badge.dataset.unread || 0) + 1;
      badge.dataset.unread = String(n);
      badge.textContent = String(n);
      badge.classList.remove("visually-hidden");
      list.prepend(row);
    }
  });
}
