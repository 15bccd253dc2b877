// The meeting room: lobby, WebRTC mesh (one RTCPeerConnection per other participant), organiser controls.
// Signalling goes over /ws/meetings/<id>; the server relays offers, answers and ICE candidates only
// between admitted participants, and closes every socket itself when the meeting is halted or ended.
// A meeting above the pack's size uses the SFU instead (sfu.js, issue 16): the join answer's media
// says which; this page then keeps the lobby, the roster and the controls, and Janus the media.
// There is no recording code here on purpose (R-MEET-02, R-MEET-16). Text from people is only ever
// set with textContent.
import { api } from "../web/trygg.js";

const root = document.getElementById("room");
if (root) start(root);

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function start(root) {
  const t = document.getElementById("room-strings").dataset;
  const meetingId = Number(root.dataset.meetingId);
  const me = Number(root.dataset.me);
  const myName = root.dataset.myName;
  const isOrganiser = root.dataset.organiser === "1";
  const isTalk = root.dataset.talk === "1";
  const status = document.getElementById("room-status");
  const tiles = document.getElementById("tiles");
  const people = document.getElementById("people");
  const peers = new Map();
  let key = root.dataset.key;
  let localStream = null;
  let ws = null;
  let iceServers = [];
  let watermark = myName;
  let finished = false;
  let joinToken = null;
  let sfuMedia = null;
  let sfu = null;
  let organiserId = null;
  let handUp = false;
  const sfuNames = new Map();   // Janus participant id -> name, from Trygg's roster (never from Janus)
  const sfuTiles = new Map();   // Janus participant id -> {tile, stream}

  // For the end-to-end test and for support: the connections, so getStats() can be read.
  window.tryggMeeting = { peers, state: () => root.dataset.state, sfu: () => sfu, media: () => sfuMedia };

  function setState(state, text) {
    root.dataset.state = state;
    status.textContent = text;
  }

  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
  }

  // ------------------------------------------------------------------ tiles

  function makeTile(id, label, isLocal) {
    const tile = el("li", "tile" + (isLocal ? " local" : ""));
    tile.dataset.personId = String(id);
    const video = el("video");
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute("disablepictureinpicture", "");
    video.setAttribute("controlslist", "nodownload noremoteplayback");
    if (isLocal) video.muted = true;
    tile.append(video);
    if (watermark) {
      // R-MEET-02: the viewer's own name over every tile, as a deterrent against screenshots.
      const mark = el("div", "watermark");
      mark.setAttribute("aria-hidden", "true");
      for (let i = 0; i < 6; i += 1) mark.append(el("span", "", watermark));
      tile.append(mark);
    }
    tile.append(el("span", "tile-label", label));
    tiles.append(tile);
    return tile;
  }

  // ------------------------------------------------------------------ peers

  function createPeer(peer, initiator) {
    const existing = peers.get(peer.id);
    if (existing && !initiator) return existing;
    if (existing) closePeer(peer.id);
    const pc = new RTCPeerConnection({ iceServers });
    const entry = { pc, name: peer.name || "", pending: [], queue: Promise.resolve(), stream: new MediaStream() };
    entry.tile = makeTile(peer.id, entry.name, false);
    peers.set(peer.id, entry);
    if (localStream) {
      for (const track of localStream.getTracks()) pc.addTrack(track, localStream);
    } else {
      pc.addTransceiver("audio", { direction: "recvonly" });
      pc.addTransceiver("video", { direction: "recvonly" });
    }
    pc.addEventListener("icecandidate", (e) => {
      if (e.candidate) send({ type: "signal", to: peer.id, data: { candidate: e.candidate.toJSON() } });
    });
    pc.addEventListener("track", (e) => {
      entry.stream.addTrack(e.track);
      const video = entry.tile.querySelector("video");
      if (video.srcObject !== entry.stream) video.srcObject = entry.stream;
    });
    if (initiator) {
      entry.queue = entry.queue.then(async () => {
        await pc.setLocalDescription(await pc.createOffer());
        send({ type: "signal", to: peer.id, data: { description: pc.localDescription.toJSON() } });
      }).catch(() => {});
    }
    return entry;
  }

  function closePeer(id) {
    const entry = peers.get(id);
    if (!entry) return;
    entry.pc.close();
    entry.tile.remove();
    peers.delete(id);
  }

  function onSignal(from, data) {
    const entry = peers.get(from) || createPeer({ id: from, name: "" }, false);
    const pc = entry.pc;
    entry.queue = entry.queue.then(async () => {
      if (data.description) {
        await pc.setRemoteDescription(data.description);
        for (const candidate of entry.pending) await pc.addIceCandidate(candidate);
        entry.pending = [];
        if (data.description.type === "offer") {
          await pc.setLocalDescription(await pc.createAnswer());
          send({ type: "signal", to: from, data: { description: pc.localDescription.toJSON() } });
        }
      } else if (data.candidate) {
        if (pc.remoteDescription) await pc.addIceCandidate(data.candidate);
        else entry.pending.push(data.candidate);
      }
    }).catch(() => {});
  }

  // ------------------------------------------------------------------ roster and organiser

  const hands = new Set();

  async function refreshRoster() {
    let meeting;
    try { meeting = await api(`/api/v1/meetings/${meetingId}`); } catch { return; }
    people.replaceChildren();
    for (const p of meeting.participants) {
      const item = el("li");
      item.dataset.username = p.username || "";
      item.dataset.state = p.state;
      const label = { waiting: t.waiting, admitted: t.in, invited: t.invited, removed: t.removedState }[p.state] || p.state;
      item.append(el("span", "person-name", p.name + (p.id === me ? ` (${t.you})` : "")), " ", el("span", "badge", label));
      if (isOrganiser && p.username && p.id !== me && p.state !== "removed") {
        if (p.state === "waiting") item.append(" ", button(t.admit, "admit", () => act("admit", { username: p.username })));
        if (sfuMedia && p.state === "admitted") {
          // The teacher turns a pupil's microphone or camera off in Janus; pupils have no such button.
          item.append(" ", button(t.muteMic, "mute", () => act("moderate", { username: p.username, audio: false })));
          item.append(" ", button(t.cameraOffFor, "camera-off", () => act("moderate", { username: p.username, video: false })));
        }
        item.append(" ", ...removeControls(p));
      }
      if (hands.has(p.id)) item.append(" ", el("span", "badge hand", t.handRaised));
      people.append(item);
    }
    if (meeting.organiser) organiserId = meeting.organiser.id;
    if (isOrganiser) {
      if (meeting.guidelines_read) guidelinesDone();
      const attempts = meeting.refused_attempts || [];
      let list = document.getElementById("attempts");
      if (attempts.length && !list) {
        list = el("ul", "attempts");
        list.id = "attempts";
        list.dataset.testid = "refused-attempts";
        document.querySelector(".organiser-controls").append(el("p", "error", t.refusedAttempt), list);
      }
      if (list) list.replaceChildren(...attempts.map((a) => el("li", "", a.person.name)));
    }
  }

  // "Remove" sits beside "Let in": it asks first, then waits 10 s with "Undo" before it happens,
  // so a slip of the finger never throws a parent out of the meeting.
  const UNDO_SECONDS = 10;
  const pendingRemovals = new Map(); // username -> {timer, until}
  const confirming = new Set();

  setInterval(() => {
    for (const note of document.querySelectorAll(".remove-pending")) {
      const left = Math.max(0, Math.ceil((Number(note.dataset.until) - Date.now()) / 1000));
      note.textContent = t.removingIn.replace("{name}", note.dataset.name).replace("{n}", String(left));
    }
  }, 1000);

  function removeControls(p) {
    const pending = pendingRemovals.get(p.username);
    if (pending) {
      const left = Math.max(0, Math.ceil((pending.until - Date.now()) / 1000));
      const note = el("span", "remove-pending", t.removingIn.replace("{name}", p.name).replace("{n}", String(left)));
      note.dataset.until = String(pending.until);
      note.dataset.name = p.name;
      return [note, " ", button(t.undo, "undo", () => {
        clearTimeout(pending.timer);
        pendingRemovals.delete(p.username);
        refreshRoster();
      })];
    }
    if (confirming.has(p.username)) {
      return [el("span", "remove-confirm", t.removeConfirm.replace("{name}", p.name)), " ",
        button(t.removeYes, "remove-yes", () => {
          confirming.delete(p.username);
          const timer = setTimeout(() => {
            pendingRemovals.delete(p.username);
            act("remove", { username: p.username });
          }, UNDO_SECONDS * 1000);
          pendingRemovals.set(p.username, { timer, until: Date.now() + UNDO_SECONDS * 1000 });
          refreshRoster();
        }), " ",
        button(t.cancel, "remove-cancel", () => { confirming.delete(p.username); refreshRoster(); })];
    }
    return [button(t.remove, "remove", () => { confirming.add(p.username); refreshRoster(); })];
  }

  function button(label, cls, onClick) {
    const b = el("button", "button-small " + cls, label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  async function act(path, body) {
    try {
      const result = await api(`/api/v1/meetings/${meetingId}/${path}`, { method: "POST", body });
      await refreshRoster();
      return result;
    } catch (error) {
      status.textContent = error.message;
      return null;
    }
  }

  function guidelinesDone() {
    const b = document.getElementById("guidelines-read");
    const done = document.getElementById("guidelines-done");
    if (b) b.hidden = true;
    if (done) done.hidden = false;
  }

  if (isOrganiser) {
    const read = document.getElementById("guidelines-read");
    if (read) read.addEventListener("click", async () => { if (await act("guidelines-read")) guidelinesDone(); });
    document.getElementById("halt").addEventListener("click", async () => {
      if (!window.confirm(t.confirmHalt)) return;
      const meeting = await act("halt");
      if (meeting && meeting.link) {
        const link = el("a", "button button-primary", meeting.title);
        link.href = meeting.link;
        link.id = "new-link";
        document.querySelector(".organiser-controls").append(link);
      }
    });
    document.getElementById("end").addEventListener("click", async () => {
      if (window.confirm(t.confirmEnd)) await act("end");
    });
  }

  // ------------------------------------------------------------------ chat (never in a development talk)

  const chatForm = document.getElementById("chat-form");
  if (chatForm && !isTalk) {
    chatForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const input = document.getElementById("chat-body");
      if (!input.value.trim()) return;
      try {
        await api(`/api/v1/meetings/${meetingId}/chat`, { method: "POST", body: { body: input.value } });
        input.value = "";
      } catch (error) {
        status.textContent = error.message;
      }
    });
  }

  function onChat(message) {
    const list = document.getElementById("chat-messages");
    if (!list || !message) return;
    const item = el("li");
    item.append(el("strong", "", message.sender ? message.sender.name : ""), " ", el("span", "", message.body));
    list.append(item);
  }

  // ------------------------------------------------------------------ controls

  function toggle(buttonId, kind, onLabel, offLabel) {
    const b = document.getElementById(buttonId);
    b.addEventListener("click", () => {
      if (!localStream) return;
      const on = b.getAttribute("aria-pressed") !== "true";
      for (const track of localStream.getTracks()) if (track.kind === kind) track.enabled = on;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.textContent = on ? onLabel : offLabel;
    });
  }
  toggle("toggle-camera", "video", t.cameraOn, t.cameraOff);
  toggle("toggle-mic", "audio", t.micOn, t.micOff);
  document.getElementById("leave").addEventListener("click", () => finish("left"));

  // The close codes of meetings/consumers.py, for a socket whose "closed" frame never arrived.
  const CLOSE_REASONS = {
    4409: "ended", 4410: "halted", 4411: "removed", 4412: "replaced", 4413: "mediaRestarted", 4403: "invalid",
  };

  function finish(reason) {
    if (finished) return;
    finished = true;
    for (const id of [...peers.keys()]) closePeer(id);
    if (sfu) sfu.close();
    if (localStream) for (const track of localStream.getTracks()) track.stop();
    tiles.replaceChildren();
    if (ws) ws.close();
    for (const b of root.querySelectorAll(".controls button, .organiser-controls button")) b.disabled = true;
    setState(reason, t[reason] || t.invalid);
  }

  // ------------------------------------------------------------------ joining

  async function media() {
    try {
      return await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    } catch {
      try { return await navigator.mediaDevices.getUserMedia({ video: true }); } catch { return null; }
    }
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${scheme}://${location.host}/ws/meetings/${meetingId}`);
    ws.addEventListener("open", () => send({ type: "join", join_token: joinToken }));
    ws.addEventListener("message", (e) => {
      let frame;
      try { frame = JSON.parse(e.data); } catch { return; }
      switch (frame.type) {
        case "lobby": setState("lobby", t.lobby); break;
        case "admitted": setState("admitted", t.admitted); startSfu(); refreshRoster(); break;
        case "peer_here":
          if (sfuMedia) nameFeed(frame.peer); else createPeer(frame.peer, true);
          refreshRoster();
          break;
        case "peer_joined":
          if (sfuMedia) nameFeed(frame.peer); else createPeer(frame.peer, false);
          refreshRoster();
          break;
        case "peer_left": closePeer(frame.person_id); hands.delete(frame.person_id); refreshRoster(); break;
        case "signal":
          if (sfuMedia) onSfuSignal(frame.from, frame.data || {}); else onSignal(frame.from, frame.data || {});
          break;
        case "roster": refreshRoster(); break;
        case "chat": onChat(frame.message); break;
        case "moderated":
          if (sfu) sfu.applyModeration(frame.audio, frame.video);
          if (frame.audio === false) setPressed("toggle-mic", false, t.micOff);
          if (frame.video === false) setPressed("toggle-camera", false, t.cameraOff);
          status.textContent = t.moderated;
          break;
        case "closed": finish(frame.reason === "media_restarted" ? "mediaRestarted" : frame.reason); break;
        default: break;
      }
    });
    ws.addEventListener("close", (event) => {
      // A socket the server closed on purpose has said why ("closed"), and its close code says it
      // again, in case that frame was lost on the way; any other drop rejoins.
      if (finished) return;
      if (CLOSE_REASONS[event.code]) { finish(CLOSE_REASONS[event.code]); return; }
      for (const id of [...peers.keys()]) closePeer(id);
      // A new join brings a new one-time credential and Janus lets the old one go, so the SFU
      // connection starts again with it once Trygg has let this person back in.
      if (sfu) { sfu.close(); sfu = null; }
      for (const entry of sfuTiles.values()) entry.tile.remove();
      sfuTiles.clear();
      setTimeout(() => { if (!finished) join(); }, 1000);
    });
  }

  async function join() {
    let answer;
    try {
      answer = await api(`/api/v1/meetings/${meetingId}/join`, { method: "POST", body: { key } });
    } catch (error) {
      finished = true;
      setState("refused", error.message);
      return;
    }
    joinToken = answer.join_token;
    sfuMedia = answer.media && answer.media.kind === "sfu" ? answer.media : null;
    if (answer.media && answer.media.warning) showWarning(answer.media.warning);
    root.dataset.media = sfuMedia ? "sfu" : "mesh";
    if (sfuMedia) showSfuControls();
    iceServers = answer.ice_servers || [];
    watermark = answer.watermark || "";
    const rules = document.getElementById("rules-list");
    rules.replaceChildren(...(answer.rules || []).map((r) => el("li", "", r)));
    if (!localStream) {
      localStream = await media();
      if (!localStream) status.textContent = t.mediaError;
      const tile = makeTile(me, myName, true);
      if (localStream) tile.querySelector("video").srcObject = localStream;
    }
    connect();
    refreshRoster();
  }

  // ------------------------------------------------------------------ the SFU (lessons, parent meetings)

  function showWarning(text) {
    let note = document.getElementById("media-warning");
    if (!note) {
      note = el("p", "notice warning");
      note.id = "media-warning";
      note.dataset.testid = "media-warning";
      status.after(note);
    }
    note.textContent = text;
  }

  function setPressed(id, on, label) {
    const b = document.getElementById(id);
    if (!b) return;
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.textContent = label;
  }

  function nameFeed(peer) {
    if (!peer || peer.sfu_id === undefined) return;
    sfuNames.set(peer.sfu_id, peer.name || "");
    const entry = sfuTiles.get(peer.sfu_id);
    if (entry) entry.tile.querySelector(".tile-label").textContent = peer.name || "";
  }

  function onSfuSignal(from, data) {
    // Raised hands travel over Trygg's socket to the organiser, between admitted people only.
    if (typeof data.hand !== "boolean" || !isOrganiser) return;
    if (data.hand) hands.add(from); else hands.delete(from);
    refreshRoster();
  }

  function showSfuControls() {
    const raise = document.getElementById("raise-hand");
    const share = document.getElementById("share-screen");
    if (raise && !isOrganiser) raise.hidden = false;
    if (share && isOrganiser) share.hidden = false;
  }

  async function startSfu() {
    if (!sfuMedia || sfu || finished) return;
    const { SfuRoom } = await import("./sfu.js");
    sfu = new SfuRoom(sfuMedia, {
      iceServers,
      localStream,
      hooks: {
        onTrack(feed, mid, track) {
          let entry = sfuTiles.get(feed);
          if (!entry) {
            entry = { tile: makeTile(`sfu-${feed}`, sfuNames.get(feed) || "", false), stream: new MediaStream() };
            entry.tile.dataset.feed = String(feed);
            sfuTiles.set(feed, entry);
          }
          entry.stream.addTrack(track);
          const video = entry.tile.querySelector("video");
          if (video.srcObject !== entry.stream) video.srcObject = entry.stream;
        },
        onFeedGone(feed) {
          const entry = sfuTiles.get(feed);
          if (entry) { entry.tile.remove(); sfuTiles.delete(feed); }
        },
        onTalking(feed, talking) {
          const entry = sfuTiles.get(feed);
          if (!entry) return;
          entry.tile.classList.toggle("speaking", talking);
          // Whoever talks comes first, which on a phone is the only big picture.
          if (talking) tiles.prepend(entry.tile);
        },
        onClosed(reason) { finish(reason === "media_restarted" ? "mediaRestarted" : reason); },
      },
    });
    try {
      await sfu.start();
    } catch {
      status.textContent = t.sfuRefused;
    }
  }

  const raiseButton = document.getElementById("raise-hand");
  if (raiseButton) {
    raiseButton.addEventListener("click", () => {
      if (organiserId === null) return;
      handUp = !handUp;
      send({ type: "signal", to: organiserId, data: { hand: handUp } });
      setPressed("raise-hand", handUp, handUp ? t.lowerHand : t.raiseHand);
    });
  }
  const shareButton = document.getElementById("share-screen");
  if (shareButton) {
    shareButton.addEventListener("click", async () => {
      if (!sfu) return;
      const on = shareButton.getAttribute("aria-pressed") !== "true";
      try {
        const sharing = await sfu.shareScreen(on);
        setPressed("share-screen", sharing, sharing ? t.stopSharing : t.shareScreen);
      } catch {
        setPressed("share-screen", false, t.shareScreen);
      }
    });
  }

  join();
}
