// The event stream of the signed-in person over /ws/events, with resume after every reconnect.
// The server sends each event once and in order; the client still drops ids it has seen, so a
// reconnect racing a push can never show a message twice.

export class EventStream {
  constructor(after, onEvent, onState = () => {}) {
    this.last = Number(after) || 0;
    this.onEvent = onEvent;
    this.onState = onState;
    this.delay = 500;
    this.closed = false;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/events`);
    this.ws = ws;
    ws.addEventListener("message", (e) => {
      let frame;
      try { frame = JSON.parse(e.data); } catch { return; }
      if (frame.type === "hello") {
        ws.send(JSON.stringify({ type: "resume", after: this.last }));
        this.delay = 500;
        this.onState("open");
        return;
      }
      if (typeof frame.id !== "number" || frame.id <= this.last) return;
      this.last = frame.id;
      this.onEvent(frame);
    });
    ws.addEventListener("close", (event) => {
      if (this.closed) return;
      // 4401: signed out (logout, revoked, password changed); 4429: a newer tab of this person
      // took this socket's place. Reconnecting would only be refused, or push the newer one out.
      if (event.code === 4401 || event.code === 4429) {
        this.closed = true;
        this.onState(event.code === 4401 ? "signed_out" : "closed");
        return;
      }
      this.onState("closed");
      // 1012: the server restarts or lost a dependency; come back at once and resume.
      const wait = event.code === 1012 ? 100 : this.delay;
      setTimeout(() => this.connect(), wait);
      this.delay = Math.min(this.delay * 2, 10000);
    });
  }

  close() {
    this.closed = true;
    this.ws.close();
  }
}
