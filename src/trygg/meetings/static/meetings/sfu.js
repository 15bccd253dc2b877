// The class room on the SFU (issue 16): the browser talks to Janus' VideoRoom plugin over its plain
// HTTP API (long poll), with the room and one-time credential Trygg's join answer gave
// (media = {kind: "sfu", url, room, credential}). Trygg decides who gets in; Janus only forwards.
//
// One publisher connection sends this browser's microphone (mid 0) and camera (mid 1, simulcast in
// three layers) and, for the teacher, a shared screen; one subscriber connection receives every
// other publisher (Janus multistream). A narrow screen asks Janus for the lowest layer, except for
// whoever is talking, who comes first. No recording code here on purpose (R-MEET-02, R-MEET-16).

const KEEPALIVE_MS = 25000;

function wait(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}

function randomId() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function gathered(pc, ms = 3000) {
  // Janus takes a complete offer; waiting for the candidates avoids trickling them one by one.
  if (pc.iceGatheringState === "complete") return;
  await Promise.race([
    new Promise((resolve) => {
      pc.addEventListener("icegatheringstatechange", () => { if (pc.iceGatheringState === "complete") resolve(); });
    }),
    wait(ms),
  ]);
}

export class SfuRoom {
  // hooks: onTrack(feedId, mid, track), onFeedGone(feedId), onTalking(feedId, talking),
  // onClosed(reason) with reason "ended" (room destroyed), "removed" (kicked) or "media_restarted".
  constructor(media, { iceServers, localStream, hooks }) {
    this.url = media.url.replace(/\/$/, "");
    this.room = media.room;
    this.credential = media.credential;
    this.myId = Number(String(media.credential).split("-")[0]);
    this.iceServers = iceServers || [];
    this.localStream = localStream;
    this.hooks = hooks;
    this.session = null;
    this.pub = null;
    this.sub = null;
    this.pubPc = null;
    this.subPc = null;
    this.feeds = new Map();          // feed id -> [mids of its streams]
    this.midToFeed = new Map();      // subscriber mid -> feed id
    this.waiters = new Map();        // transaction -> resolve
    this.closed = false;
    this.subQueue = Promise.resolve();
    this.screenSender = null;
    this.lowLayer = window.matchMedia("(max-width: 700px)").matches;
    this.talking = null;
  }

  // ------------------------------------------------------------------ the Janus API

  async post(path, body) {
    const response = await fetch(this.url + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return response.json();
  }

  request(handle, body, jsep) {
    const transaction = randomId();
    const answer = new Promise((resolve) => { this.waiters.set(transaction, resolve); });
    const message = { janus: "message", transaction, body };
    if (jsep) message.jsep = jsep;
    return this.post(`/${this.session}/${handle}`, message).then((ack) => {
      if (ack.janus === "success") { this.waiters.delete(transaction); return ack; }
      if (ack.janus === "error") { this.waiters.delete(transaction); throw new Error(ack.error?.reason || "janus"); }
      return answer;
    });
  }

  async poll() {
    while (!this.closed) {
      let events;
      try {
        const response = await fetch(`${this.url}/${this.session}?maxev=10&rid=${Date.now()}`);
        events = await response.json();
      } catch {
        // Janus is gone: a restart ends its rooms, and the participants are told, not frozen.
        if (!this.closed) this.close("media_restarted");
        return;
      }
      for (const event of Array.isArray(events) ? events : [events]) this.onEvent(event);
    }
  }

  onEvent(event) {
    if (event.janus === "error" && event.error?.code === 458) { this.close("media_restarted"); return; }
    const resolve = event.transaction && this.waiters.get(event.transaction);
    if (resolve) { this.waiters.delete(event.transaction); resolve(event); }
    if (event.janus === "hangup" && event.sender === this.pub && !this.closed) { this.close("removed"); return; }
    const data = event.plugindata?.data;
    if (!data) return;
    if (data.videoroom === "destroyed") { this.close("ended"); return; }
    if (event.sender === this.pub) {
      if (data.leaving === "ok" || data.kicked === this.myId) { this.close("removed"); return; }
      if (data.publishers) this.addPublishers(data.publishers);
      const gone = data.unpublished ?? data.leaving ?? data.kicked;
      if (gone !== undefined && gone !== "ok") this.removeFeed(Number(gone));
      if (data.videoroom === "talking" || data.videoroom === "stopped-talking") {
        this.onTalking(Number(data.id), data.videoroom === "talking");
      }
    } else if (event.sender === this.sub && event.jsep && !resolve) {
      // Janus renegotiates when feeds come and go: answer on the subscriber connection.
      this.subQueue = this.subQueue.then(() => this.answerSubscriber(event)).catch(() => {});
    }
  }

  // ------------------------------------------------------------------ joining and publishing

  async start() {
    const created = await this.post("", { janus: "create", transaction: randomId() });
    if (created.janus !== "success") throw new Error("janus");
    this.session = created.data.id;
    this.poll();
    this.keepalive = setInterval(() => {
      this.post(`/${this.session}`, { janus: "keepalive", transaction: randomId() }).catch(() => {});
    }, KEEPALIVE_MS);
    this.pub = (await this.post(`/${this.session}`, { janus: "attach", plugin: "janus.plugin.videoroom", transaction: randomId() })).data.id;
    const joined = await this.request(this.pub, {
      request: "join", ptype: "publisher", room: this.room, id: this.myId, token: this.credential, display: "",
    });
    const data = joined.plugindata?.data || {};
    if (data.videoroom !== "joined") throw new Error(data.error || "refused");
    this.privateId = data.private_id;
    await this.publish();
    this.addPublishers(data.publishers || []);
  }

  async publish() {
    const pc = this.pubPc = new RTCPeerConnection({ iceServers: this.iceServers });
    const stream = this.localStream;
    const audio = stream?.getAudioTracks()[0];
    const video = stream?.getVideoTracks()[0];
    // The microphone first (mid 0), the camera second (mid 1): the teacher's mute names these mids.
    pc.addTransceiver(audio || "audio", { direction: audio ? "sendonly" : "inactive", streams: stream ? [stream] : [] });
    if (video) {
      // Simulcast: three layers, so a phone on a weak network can get the small one.
      pc.addTransceiver(video, {
        direction: "sendonly",
        streams: [stream],
        sendEncodings: [
          { rid: "h", maxBitrate: 600000 },
          { rid: "m", maxBitrate: 200000, scaleResolutionDownBy: 2 },
          { rid: "l", maxBitrate: 80000, scaleResolutionDownBy: 4 },
        ],
      });
    } else {
      pc.addTransceiver("video", { direction: "inactive" });
    }
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const answer = await this.request(this.pub, { request: "publish" }, pc.localDescription.toJSON());
    if (!answer.jsep) throw new Error("publish refused");
    await pc.setRemoteDescription(answer.jsep);
  }

  async renegotiatePublisher() {
    const pc = this.pubPc;
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const answer = await this.request(this.pub, { request: "configure" }, pc.localDescription.toJSON());
    if (answer.jsep) await pc.setRemoteDescription(answer.jsep);
  }

  // Only the teacher gets the button; Trygg's room page decides who sees it.
  async shareScreen(on) {
    if (on && !this.screenSender) {
      const screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      const track = screen.getVideoTracks()[0];
      this.screenSender = this.pubPc.addTransceiver(track, { direction: "sendonly" }).sender;
      track.addEventListener("ended", () => { this.shareScreen(false); });
      await this.renegotiatePublisher();
      return true;
    }
    if (!on && this.screenSender) {
      const sender = this.screenSender;
      this.screenSender = null;
      if (sender.track) sender.track.stop();
      this.pubPc.removeTrack(sender);
      await this.renegotiatePublisher();
    }
    return false;
  }

  // ------------------------------------------------------------------ receiving

  addPublishers(publishers) {
    const fresh = [];
    for (const p of publishers) {
      if (p.id === this.myId || p.dummy) continue;
      const streams = (p.streams || []).filter((s) => !s.disabled && s.type !== "data");
      if (!streams.length) continue;
      const known = this.feeds.get(p.id) || [];
      for (const s of streams) {
        if (!known.includes(s.mid)) { known.push(s.mid); fresh.push({ feed: p.id, mid: s.mid }); }
      }
      this.feeds.set(p.id, known);
    }
    if (fresh.length) this.subQueue = this.subQueue.then(() => this.subscribe(fresh)).catch(() => {});
  }

  async subscribe(streams) {
    if (this.closed) return;
    if (!this.sub) {
      this.sub = (await this.post(`/${this.session}`, { janus: "attach", plugin: "janus.plugin.videoroom", transaction: randomId() })).data.id;
      const offer = await this.request(this.sub, {
        request: "join", ptype: "subscriber", room: this.room, private_id: this.privateId, streams,
      });
      await this.answerSubscriber(offer);
    } else {
      const offer = await this.request(this.sub, { request: "subscribe", streams });
      if (offer.jsep) await this.answerSubscriber(offer);
    }
  }

  async answerSubscriber(event) {
    const data = event.plugindata?.data || {};
    for (const s of data.streams || []) if (s.feed_id) this.midToFeed.set(s.mid, s.feed_id);
    if (!this.subPc) {
      this.subPc = new RTCPeerConnection({ iceServers: this.iceServers });
      this.subPc.addEventListener("track", (e) => {
        const feed = this.midToFeed.get(e.transceiver.mid);
        if (feed !== undefined) this.hooks.onTrack(feed, e.transceiver.mid, e.track);
      });
    }
    const pc = this.subPc;
    await pc.setRemoteDescription(event.jsep);
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    await this.request(this.sub, { request: "start" }, pc.localDescription.toJSON());
    if (this.lowLayer) this.chooseLayers();
  }

  removeFeed(feed) {
    const mids = this.feeds.get(feed);
    if (!mids) return;
    this.feeds.delete(feed);
    this.hooks.onFeedGone(feed);
    if (this.sub) {
      this.subQueue = this.subQueue.then(() => this.request(this.sub, { request: "unsubscribe", streams: [{ feed }] }))
        .catch(() => {});
    }
  }

  onTalking(feed, talking) {
    if (talking) this.talking = feed;
    this.hooks.onTalking(feed, talking);
    if (this.lowLayer) this.chooseLayers();
  }

  // On a phone: the smallest simulcast layer for everyone, the middle one for whoever talks.
  chooseLayers() {
    if (!this.sub) return;
    const streams = [];
    for (const [mid, feed] of this.midToFeed) {
      streams.push({ mid, substream: feed === this.talking ? 1 : 0, temporal: feed === this.talking ? 2 : 0 });
    }
    if (streams.length) this.request(this.sub, { request: "configure", streams }).catch(() => {});
  }

  // ------------------------------------------------------------------ the teacher's mute, leaving

  applyModeration(audio, video) {
    // Janus has already stopped forwarding; this keeps the pupil's own buttons honest.
    for (const track of this.localStream?.getTracks() || []) {
      if (track.kind === "audio" && audio === false) track.enabled = false;
      if (track.kind === "video" && video === false) track.enabled = false;
    }
  }

  async stats() {
    const out = { inboundVideo: 0, framesDecoded: 0, outboundVideo: 0 };
    for (const [pc, key] of [[this.subPc, "in"], [this.pubPc, "out"]]) {
      if (!pc) continue;
      (await pc.getStats()).forEach((r) => {
        if (key === "in" && r.type === "inbound-rtp" && r.kind === "video") {
          out.inboundVideo += 1;
          out.framesDecoded += r.framesDecoded || 0;
        }
        if (key === "out" && r.type === "outbound-rtp" && r.kind === "video") out.outboundVideo += 1;
      });
    }
    return out;
  }

  close(reason) {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepalive);
    for (const pc of [this.pubPc, this.subPc]) if (pc) pc.close();
    if (this.session) this.post(`/${this.session}`, { janus: "destroy", transaction: randomId() }).catch(() => {});
    if (reason) this.hooks.onClosed(reason);
  }
}
