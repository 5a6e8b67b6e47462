// @ts-check
// Signalling client (docs/signalling.md). Protocol only, no DOM: the page subscribes with on().
// Reconnects by itself with backoff and sends a heartbeat, so a short network interruption does
// not lose the seat in the room.

/**
 * An appointment as the doctor's room and the calendar's live feed see it (video/consumers.py).
 * @typedef {object} AppointmentState
 * @property {number} id
 * @property {"planned" | "waiting" | "in_call" | "done" | "cancelled" | "no_show"} status
 * @property {string | null} waiting_name the name the patient typed, an envelope to the practice key pair
 * @property {boolean} patient_present whether the patient's seat is held
 * @property {string | null} [patient_seat] which connection holds it (changes when a reloaded page takes it over)
 */

/**
 * What one browser relays to the other through the server, unchanged: one field is set (and
 * `fresh` with a first offer).
 * @typedef {object} SignalPayload
 * @property {true} [ready] the patient's page lost its peer connection: please offer anew
 * @property {RTCSessionDescriptionInit} [description] offer or answer
 * @property {true} [fresh] with the first offer of a new connection: answer it with a fresh one
 * @property {RTCIceCandidateInit} [candidate] trickle ICE
 * @property {true} [restart] the patient's connection failed: please restart ICE
 * @property {MediaState} [media] the sender's microphone, camera and screen
 * @property {true} [conference] the practice admitted a third person: the call moves to the conference room
 */

/**
 * What one side tells the other about its own media, so the other side can show it.
 * @typedef {object} MediaState
 * @property {boolean} audio microphone on
 * @property {boolean} video camera (or shared screen) on
 * @property {boolean} screen sharing a screen, window or tab instead of the camera
 */

/**
 * What the server sends, by type (docs/signalling.md, "Messages"), and the socket's own events
 * "open" and "close".
 * @typedef {{
 *   waiting: {type: "waiting", ice_servers: RTCIceServer[]},
 *   config: {type: "config", ice_servers: RTCIceServer[]},
 *   "in-call": {type: "in-call", ice_servers: RTCIceServer[]},
 *   state: {type: "state", appointment: AppointmentState},
 *   appointment: {type: "appointment", appointment: AppointmentState},
 *   admitted: {type: "admitted"},
 *   signal: {type: "signal", payload: SignalPayload},
 *   ended: {type: "ended"},
 *   "peer-left": {type: "peer-left"},
 *   pong: {type: "pong"},
 *   refused: {type: "refused", reason: string, message: string},
 *   error: {type: "error", message: string},
 *   open: undefined,
 *   close: CloseEvent,
 * }} Events
 */

/**
 * What a browser sends.
 * @typedef {{type: "ping"} | {type: "hello", name: string} | {type: "admit"} | {type: "connected"}
 *   | {type: "hangup"} | {type: "leave"} | {type: "signal", payload: SignalPayload}} ClientMessage
 */

/**
 * The websocket URL of a path on this very origin (the server accepts no other).
 * @param {string} path
 */
export function socketUrl(path) {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}

export class SignallingClient {
  /** @param {string} path e.g. "/ws/raum/12/" */
  constructor(path) {
    /** The websocket URL. */
    this.url = socketUrl(path);
    /** @type {Map<string, Set<(data: any) => void>>} subscribers by message type */
    this.handlers = new Map();
    /** @type {WebSocket | null} the current socket; a reconnect makes a new one */
    this.socket = null;
    /** Set by close(): no reconnect. */
    this.closedByUs = false;
    /** Set when the server refused us (room full, replaced, revoked …): no reconnect. */
    this.refused = false;
    /** Reconnects since the last successful open, for the backoff. */
    this.attempt = 0;
    /** @type {string[]} messages sent while disconnected, sent on the next open */
    this.queue = [];
    /** @type {number | undefined} the heartbeat interval while open */
    this.heartbeat = undefined;
    /** @type {number | undefined} the pending reconnect */
    this.retry = undefined;
  }

  /**
   * Subscribe to a message type ("signal", "waiting", …) or to "open"/"close".
   * @template {keyof Events} K
   * @param {K} type
   * @param {(data: Events[K]) => void} handler
   * @returns {this}
   */
  on(type, handler) {
    let handlers = this.handlers.get(type);
    if (!handlers) this.handlers.set(type, (handlers = new Set()));
    handlers.add(handler);
    return this;
  }

  /**
   * @param {string} type
   * @param {unknown} [data]
   */
  emit(type, data) {
    for (const handler of this.handlers.get(type) ?? []) handler(data);
  }

  connect() {
    this.closedByUs = false;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      for (const message of this.queue.splice(0)) socket.send(message);
      this.heartbeat = setInterval(() => this.send({ type: "ping" }), 15000);
      this.emit("open");
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "refused") this.refused = true;
      this.emit(message.type, message);
    };
    socket.onclose = (event) => {
      clearInterval(this.heartbeat);
      this.emit("close", event);
      if (this.closedByUs || this.refused || event.code >= 4000) return;
      // Jitter (±50 %): the patients a restarted server process drops all at once do not come back
      // all at once (docs/signalling.md, "Several server processes").
      const delay = Math.min(5000, 500 * 2 ** this.attempt++) * (0.5 + Math.random());
      this.retry = setTimeout(() => this.connect(), delay);
    };
  }

  /**
   * Sends now, or as soon as the connection is back.
   * @param {ClientMessage} message
   */
  send(message) {
    const text = JSON.stringify(message);
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(text);
    else if (message.type !== "ping") this.queue.push(text);
  }

  close() {
    this.closedByUs = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    this.socket?.close(1000);
  }
}
