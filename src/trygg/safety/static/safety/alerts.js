// The alerts page hears new alerts as they are raised: a banner says so and offers to show them.
// An alert's frame holds a category, a pupil and ids; nothing of a message.
import { EventStream } from "../messaging/events.js";

const root = document.getElementById("safety-alerts-page");
if (root) {
  const banner = document.getElementById("new-alerts");
  new EventStream(root.dataset.latestEventId, (frame) => {
    if (frame.type === "safety.alert") banner.hidden = false;
  }, (state) => { root.dataset.socket = state; });
}
