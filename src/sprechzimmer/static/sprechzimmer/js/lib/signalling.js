// Signalling client (docs/signalling.md). Protocol only, no DOM: the page subscribes with on().
// Reconnects by itself with backoff and sends a heartbeat, so a short network interruption does
// not lose the seat in the room.

/** The websocket URL of a path on this very origin (the server accepts no other). */
export function socketUrl(path) {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}

export class SignallingClient {
  /** @param {string} path e.g. "/ws/raum/12/" */
  constructor(path) {
    this.url = socketUrl(path);
    /** @type {Map<string, Set<Function>>} */
    this.handlers = new Map();
    this.socket = null;
    this.closedByUs = false;
    this.refused = false;
    this.attempt = 0;
    this.queue = [];
  }

  /** Subscribe to a message type ("signal", "waiting", …) or to "open"/"close". */
  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
    return this;
  }

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
      const delay = Math.min(5000, 500 * 2 ** this.attempt++);
      this.retry = setTimeout(() => this.connect(), delay);
    };
  }

  /** Sends now, or as soon as the connection is back. */
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
