// @ts-check
// Janus's own protocol over its WebSocket (subprotocol "janus-protocol") for the VideoRoom of a
// conference (docs/signalling.md, "Conferences"): a session with the token Django issued, a
// publisher handle that joins with the participant's room token and publishes with `e2ee` set in
// the JSEP, and subscriber handles that carry the publisher's private id. No page DOM, no
// encryption: the frame encryption attaches its transforms to the senders and receivers of the
// RTCPeerConnections the caller makes and passes in.

/**
 * What `/api/konferenz/zugang/` (or the doctor's `…/konferenz/zugang/`) answers.
 * @typedef {object} JanusAccess
 * @property {string} server the WebSocket address of Janus
 * @property {string} room the VideoRoom id
 * @property {string} id this participant's id in the room
 * @property {string} room_token this participant's entry in the room's allowed list
 * @property {string} token the signed Janus token, valid until `expires`
 * @property {string} expires ISO time the token stops working
 * @property {RTCIceServer[]} ice_servers STUN/TURN for the RTCPeerConnections
 */

/** A request Janus or the VideoRoom refused; `code` is Janus's (403 token) or the plugin's (433 room). */
export class JanusError extends Error {
  /**
   * @param {number} code
   * @param {string} reason
   */
  constructor(code, reason) {
    super(reason);
    this.code = code;
  }
}

/** Janus drops a session after 60 silent seconds; a keep-alive well before. */
const KEEPALIVE_MS = 25_000;

/**
 * @typedef {{janus: string, transaction?: string, session_id?: number, sender?: number,
 *   data?: any, error?: {code: number, reason: string}, jsep?: RTCSessionDescriptionInit,
 *   plugindata?: {plugin: string, data: any}}} JanusMessage
 */

export class JanusSession {
  /**
   * @param {WebSocket} socket
   * @param {string} token
   */
  constructor(socket, token) {
    this.socket = socket;
    this.token = token;
    /** @type {number} */
    this.id = 0;
    /** @type {Map<string, {resolve: (m: JanusMessage) => void, reject: (e: Error) => void, waitForEvent: boolean}>} */
    this.pending = new Map();
    /** @type {Map<number, JanusHandle>} */
    this.handles = new Map();
    /** @type {ReturnType<typeof setInterval> | null} */
    this.keepalive = null;
    /** Called when the socket closes (Janus stopped, the session timed out or the token ran out). */
    this.onclose = () => {};
    socket.onmessage = (event) => this.receive(JSON.parse(String(event.data)));
    socket.onclose = () => {
      if (this.keepalive) clearInterval(this.keepalive);
      for (const waiting of this.pending.values()) waiting.reject(new JanusError(0, "Verbindung getrennt"));
      this.pending.clear();
      this.onclose();
    };
  }

  /**
   * Connects and creates the Janus session with the participant's token.
   * @param {JanusAccess} access
   * @returns {Promise<JanusSession>}
   */
  static async open(access) {
    const socket = new WebSocket(access.server, "janus-protocol");
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new JanusError(0, "Konferenzserver nicht erreichbar"));
    });
    socket.onopen = socket.onerror = null;
    const session = new JanusSession(socket, access.token);
    try {
      const created = await session.send({ janus: "create" });
      session.id = created.data.id;
    } catch (error) {
      socket.close();
      throw error;
    }
    session.keepalive = setInterval(() => {
      session.send({ janus: "keepalive", session_id: session.id }).catch(() => {});
    }, KEEPALIVE_MS);
    return session;
  }

  /**
   * A fresh token from Django (ask again before `expires`): used from the next request on.
   * @param {string} token
   */
  setToken(token) {
    this.token = token;
  }

  /**
   * Sends a request and resolves with Janus's answer: "success", or for plugin requests that
   * answer later the "event" after the "ack". Rejects with JanusError on "error" or a plugin error.
   * @param {Record<string, any>} request
   * @param {boolean} [waitForEvent]
   * @returns {Promise<JanusMessage>}
   */
  send(request, waitForEvent = false) {
    const transaction = crypto.randomUUID();
    return new Promise((resolve, reject) => {
      this.pending.set(transaction, { resolve, reject, waitForEvent });
      this.socket.send(JSON.stringify({ ...request, transaction, token: this.token }));
    });
  }

  /** @param {JanusMessage} message */
  receive(message) {
    const waiting = message.transaction ? this.pending.get(message.transaction) : undefined;
    if (waiting && message.transaction) {
      // A plugin request that answers later gets an "ack" first; its "event" follows.
      if (message.janus === "ack" && waiting.waitForEvent) return;
      this.pending.delete(message.transaction);
      const data = message.plugindata?.data;
      if (message.janus === "error" && message.error) waiting.reject(new JanusError(message.error.code, message.error.reason));
      else if (data && data.error_code) waiting.reject(new JanusError(data.error_code, data.error));
      else waiting.resolve(message);
      return;
    }
    // Unasked: room events (publishers coming and going, a kick), webrtcup, hangup, media.
    const handle = message.sender ? this.handles.get(message.sender) : undefined;
    if (handle) handle.onmessage(message);
  }

  /** @returns {Promise<JanusHandle>} the VideoRoom attached to this session */
  async attach() {
    const attached = await this.send({ janus: "attach", session_id: this.id, plugin: "janus.plugin.videoroom" });
    const handle = new JanusHandle(this, attached.data.id);
    this.handles.set(handle.id, handle);
    return handle;
  }

  close() {
    if (this.keepalive) clearInterval(this.keepalive);
    if (this.socket.readyState === WebSocket.OPEN) {
      this.send({ janus: "destroy", session_id: this.id }).catch(() => {});
      this.socket.close();
    }
  }
}

export class JanusHandle {
  /**
   * @param {JanusSession} session
   * @param {number} id
   */
  constructor(session, id) {
    this.session = session;
    this.id = id;
    /** Room events and WebRTC state of this handle ("event", "webrtcup", "hangup", "media" …). */
    this.onmessage = /** @param {JanusMessage} _message */ (_message) => {};
  }

  /**
   * A VideoRoom request; resolves with the plugin's data and the JSEP Janus sent with it.
   * @param {Record<string, any>} body
   * @param {RTCSessionDescriptionInit & {e2ee?: boolean}} [jsep]
   * @returns {Promise<{data: any, jsep: RTCSessionDescriptionInit | undefined}>}
   */
  async message(body, jsep) {
    const request = { janus: "message", session_id: this.session.id, handle_id: this.id, body };
    const answer = await this.session.send(jsep ? { ...request, jsep } : request, true);
    return { data: answer.plugindata?.data, jsep: answer.jsep };
  }

  /**
   * Sends the PeerConnection's ICE candidates to Janus as they come (trickle); takes over
   * `pc.onicecandidate`.
   * @param {RTCPeerConnection} pc
   */
  trickle(pc) {
    pc.onicecandidate = (event) => {
      const candidate = event.candidate ? event.candidate.toJSON() : { completed: true };
      this.session
        .send({ janus: "trickle", session_id: this.session.id, handle_id: this.id, candidate })
        .catch(() => {});
    };
  }

  detach() {
    this.session.handles.delete(this.id);
    this.session.send({ janus: "detach", session_id: this.session.id, handle_id: this.id }).catch(() => {});
  }
}

/**
 * Joins the room as publisher with the participant's room token; resolves with the handle and the
 * "joined" event (its `private_id` is needed for subscriptions, `publishers` lists the others).
 * @param {JanusSession} session
 * @param {JanusAccess} access
 * @param {string} [display] what the others see in the room's events (the role, never a name)
 */
export async function joinRoom(session, access, display) {
  const handle = await session.attach();
  const { data } = await handle.message({
    request: "join",
    ptype: "publisher",
    room: access.room,
    id: access.id,
    token: access.room_token,
    ...(display ? { display } : {}),
  });
  return { handle, joined: data };
}

/**
 * Publishes the tracks already added to `pc` (the caller adds them and attaches the frame
 * encryption's transforms). `e2ee` tells Janus the frames are encrypted; the room refuses
 * publishers without it. Resolves when the answer is set; the others can subscribe once Janus has
 * the media (the handle's "webrtcup", the room's "publishers" event to the others).
 * @param {JanusHandle} handle the publisher handle from joinRoom
 * @param {RTCPeerConnection} pc
 */
export async function publish(handle, pc) {
  handle.trickle(pc);
  await pc.setLocalDescription(await pc.createOffer());
  const offer = /** @type {RTCSessionDescription} */ (pc.localDescription);
  const hasAudio = pc.getSenders().some((s) => s.track?.kind === "audio");
  const hasVideo = pc.getSenders().some((s) => s.track?.kind === "video");
  const { jsep } = await handle.message(
    { request: "configure", audio: hasAudio, video: hasVideo },
    { type: offer.type, sdp: offer.sdp, e2ee: true },
  );
  if (!jsep) throw new JanusError(0, "Janus hat die Veröffentlichung nicht beantwortet");
  await pc.setRemoteDescription(jsep);
}

/**
 * Subscribes `pc` to the given publishers' streams on a new handle of the session.
 * @param {JanusSession} session
 * @param {JanusAccess} access
 * @param {number} privateId the `private_id` of this participant's "joined" event
 * @param {string[]} feeds publisher ids
 * @param {RTCPeerConnection} pc
 * @returns {Promise<JanusHandle>}
 */
export async function subscribe(session, access, privateId, feeds, pc) {
  const handle = await session.attach();
  const { jsep } = await handle.message({
    request: "join",
    ptype: "subscriber",
    room: access.room,
    private_id: privateId,
    streams: feeds.map((feed) => ({ feed })),
  });
  if (!jsep) throw new JanusError(0, "Janus hat kein Angebot gesendet");
  handle.trickle(pc);
  await pc.setRemoteDescription(jsep);
  await pc.setLocalDescription(await pc.createAnswer());
  const answer = /** @type {RTCSessionDescription} */ (pc.localDescription);
  await handle.message({ request: "start", room: access.room }, { type: answer.type, sdp: answer.sdp, e2ee: true });
  return handle;
}
