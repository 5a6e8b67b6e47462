// @ts-check
// A conference on the call screen (issue 18): this browser publishes camera and microphone to the
// Janus room with every frame encrypted (lib/framecrypto.js), subscribes to every other publisher
// and decrypts, and shows them as a grid of tiles (up to eight others; the active speaker larger).
// Janus sees participant ids and roles only: the doctor's page names the tiles from the names it
// decrypts and seals them into every grant, so the other pages name the tiles too.
import * as janus from "../lib/janus.js";
import { peerConnectionConfig } from "../lib/framecrypto.js";
import { ApiError, request } from "../lib/api.js";
import { keyCode, newCallKey, openGrant } from "../lib/confkeys.js";

/** Role labels as the tiles show them (the server's Participant.Role). */
export const ROLE_LABELS = /** @type {Record<string, string>} */ ({
  doctor: "Ärztin/Arzt",
  patient: "Patientin/Patient",
  interpreter: "Dolmetschen",
  relative: "Angehörige/r",
  colleague: "Kollegin/Kollege",
});

/** The VideoRoom's `display` carries the role only (never a name: Janus is not to learn names). */
const ROLES = new Set(Object.keys(ROLE_LABELS));

/** How often the grid reads the receivers' statistics (speaker, decoded frames). */
const STATS_MS = 1000;
/** A subscription that has shown no picture this long is made again (a lost answer, ICE that
 * never came up, a first key frame that never arrived), at most RESUBSCRIBE_TRIES times. */
const NO_PICTURE_MS = 12_000;
const RESUBSCRIBE_TRIES = 3;

/**
 * @typedef {object} Tile
 * @property {string} feed the publisher's id in the room
 * @property {string} role
 * @property {HTMLElement} element
 * @property {HTMLVideoElement} video
 * @property {RTCPeerConnection} pc the subscription
 * @property {janus.JanusHandle | null} handle
 * @property {{id: string | number, display?: string}} publisher as the room announced it
 * @property {number} since when this subscription began (performance.now())
 * @property {number} tries how often it has been made again
 */

export class ConferenceView {
  /**
   * @param {HTMLElement} root the call screen (#call): gets data-mode="conference"
   * @param {MediaStream} stream own camera and microphone
   * @param {import("../lib/framecrypto.js").FrameCrypto} frameCrypto this page's frame worker
   */
  constructor(root, stream, frameCrypto) {
    this.root = root;
    this.stream = stream;
    this.crypto = frameCrypto;
    const grid = root.querySelector(".conference-grid");
    if (!(grid instanceof HTMLElement)) throw new Error("no .conference-grid on the call screen");
    this.grid = grid;
    /** The key code everyone compares aloud (confkeys.js, keyCode); absent on pages without it. */
    this.keyBox = root.querySelector(".key-code");
    /** The newest epoch this page holds, whose code is shown. */
    this.keyEpoch = 0;
    /** @type {Map<string, Tile>} */
    this.tiles = new Map();
    /** @type {Map<string, string>} publisher id -> name (the doctor's page only) */
    this.names = new Map();
    /** @type {janus.JanusSession | null} */
    this.session = null;
    /** @type {janus.JanusAccess | null} */
    this.access = null;
    /** @type {RTCPeerConnection | null} */
    this.publisher = null;
    this.privateId = 0;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.statsTimer = undefined;
    /** @type {Map<string, MediaStreamTrack>} kind -> what is sent instead of the camera's track (a shared screen) */
    this.outgoing = new Map();
    /** Called when Janus ends this page's part (kicked, room destroyed, connection lost). */
    this.onclose = () => {};
    this.closed = false;
  }

  /**
   * Joins the room, publishes encrypted, subscribes to those already there.
   * @param {janus.JanusAccess & {role: string}} access
   */
  async join(access) {
    this.access = access;
    this.root.dataset.mode = "conference";
    this.grid.hidden = false;
    const session = await janus.JanusSession.open(access);
    this.session = session;
    session.onclose = () => this.end();
    const { handle, joined } = await janus.joinRoom(session, access, access.role);
    this.privateId = joined.private_id;
    handle.onmessage = (message) => this.roomEvent(message);
    const pc = new RTCPeerConnection({ iceServers: access.ice_servers, ...peerConnectionConfig() });
    this.publisher = pc;
    for (const camera of this.stream.getTracks()) {
      const track = this.outgoing.get(camera.kind) ?? camera;
      const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [this.stream] });
      this.crypto.encrypt(transceiver.sender);
      preferVp8(transceiver, track.kind);
    }
    await janus.publish(handle, pc);
    for (const publisher of joined.publishers ?? []) this.add(publisher);
    this.statsTimer = setInterval(() => this.readStats(), STATS_MS);
  }

  /**
   * Sends `track` for its kind from now on (a shared screen instead of the camera, a new camera,
   * and back): the sender keeps its frame encryption, so the screen leaves encrypted too.
   * @param {MediaStreamTrack} track
   */
  async setOutgoing(track) {
    const camera = this.stream.getTracks().find((t) => t.kind === track.kind);
    if (track === camera) this.outgoing.delete(track.kind);
    else this.outgoing.set(track.kind, track);
    const transceiver = this.publisher?.getTransceivers().find((t) => t.sender.track?.kind === track.kind || t.receiver.track.kind === track.kind);
    await transceiver?.sender.replaceTrack(track);
  }

  /** @param {janus.JanusMessage} message */
  roomEvent(message) {
    const data = message.plugindata?.data;
    if (!data) return;
    for (const publisher of data.publishers ?? []) this.add(publisher);
    const gone = data.unpublished ?? data.leaving ?? data.kicked;
    if (gone === "ok") this.end();
    else if (gone !== undefined) this.drop(String(gone));
    if (data.videoroom === "destroyed" || data.error_code) this.end();
  }

  /**
   * @param {{id: string | number, display?: string}} publisher
   * @param {number} [tries] how often this publisher's subscription has been made again
   */
  add(publisher, tries = 0) {
    const feed = String(publisher.id);
    if (this.tiles.has(feed) || !this.session || !this.access || this.closed) return;
    const role = publisher.display && ROLES.has(publisher.display) ? publisher.display : "colleague";
    const element = document.createElement("figure");
    element.className = "tile";
    element.dataset.feed = feed;
    element.dataset.role = role;
    element.dataset.framesDecoded = "0";
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    const caption = document.createElement("figcaption");
    element.append(video, caption);
    this.grid.append(element);
    const pc = new RTCPeerConnection({ iceServers: this.access.ice_servers, ...peerConnectionConfig() });
    const media = new MediaStream();
    video.srcObject = media;
    pc.ontrack = (event) => {
      this.crypto.decrypt(event.receiver);
      media.addTrack(event.track);
    };
    /** @type {Tile} */
    const tile = { feed, role, element, video, pc, handle: null, publisher, since: performance.now(), tries };
    this.tiles.set(feed, tile);
    this.label(tile);
    this.layout();
    janus
      .subscribe(this.session, this.access, this.privateId, [feed], pc)
      .then((handle) => {
        if (this.tiles.get(feed) === tile) tile.handle = handle;
        else handle.detach();
      })
      .catch(() => this.drop(feed));
  }

  /** @param {string} feed */
  drop(feed) {
    const tile = this.tiles.get(feed);
    if (!tile) return;
    this.tiles.delete(feed);
    tile.pc.close();
    tile.handle?.detach();
    tile.element.remove();
    this.layout();
  }

  /**
   * Names for the tiles: publisher id -> name (the doctor's page decrypts them; the others get
   * them inside their grant).
   * @param {Map<string, string>} names
   */
  setNames(names) {
    this.names = names;
    for (const tile of this.tiles.values()) this.label(tile);
  }

  /** @param {Tile} tile */
  label(tile) {
    const caption = tile.element.querySelector("figcaption");
    if (!caption) return;
    const name = this.names.get(tile.feed);
    const role = ROLE_LABELS[tile.role] ?? "";
    caption.textContent = name ? `${name} · ${role}` : role;
    tile.video.setAttribute("aria-label", `Bild: ${caption.textContent}`);
  }

  layout() {
    this.grid.dataset.count = String(this.tiles.size);
    this.root.dataset.participants = String(this.tiles.size + 1);
  }

  /** Decoded frames per tile, the loudest speaker larger, and the key ids in use. */
  async readStats() {
    let loudest = null;
    let level = 0.02; // below this nobody is speaking
    for (const tile of this.tiles.values()) {
      const report = await tile.pc.getStats().catch(() => null);
      if (!report) continue;
      for (const stat of report.values()) {
        if (stat.type !== "inbound-rtp") continue;
        if (stat.kind === "video") {
          tile.element.dataset.framesDecoded = String(stat.framesDecoded ?? 0);
          tile.element.dataset.packets = String(stat.packetsReceived ?? 0); // tells no media from no key
        }
        if (stat.kind === "audio" && (stat.audioLevel ?? 0) > level) {
          level = stat.audioLevel;
          loudest = tile;
        }
      }
    }
    if (loudest) for (const tile of this.tiles.values()) tile.element.classList.toggle("speaker", tile === loudest);
    this.resubscribeSilent();
    const stats = await this.crypto.stats();
    if (stats.sendKid !== null) this.root.dataset.sendEpoch = String(Math.floor(stats.sendKid / 16));
    if (stats.lastKid >= 0) this.root.dataset.receiveEpoch = String(Math.floor(stats.lastKid / 16));
    // Frames this page's worker dropped (no key yet, unknown key id, failed tag, malformed): counts
    // only, for whoever looks at a tile without a picture.
    this.root.dataset.dropped = [stats.noKey, stats.unknownKid, stats.authFailed, stats.malformed].join(" ");
  }

  /** Makes again a subscription that has shown no picture for NO_PICTURE_MS (a camera that is
   * off still sends frames, so a tile without any is broken, not dark). */
  resubscribeSilent() {
    const now = performance.now();
    for (const tile of [...this.tiles.values()]) {
      if (this.closed || tile.element.dataset.framesDecoded !== "0") continue;
      if (now - tile.since < NO_PICTURE_MS || tile.tries >= RESUBSCRIBE_TRIES) continue;
      this.drop(tile.feed);
      this.add(tile.publisher, tile.tries + 1);
    }
  }

  /**
   * Shows the code of the newest conference key this page holds: equal codes on every page mean
   * everyone holds the same key (nobody, not even the server that relayed it, gave out another).
   * @param {number} epoch
   * @param {Uint8Array<ArrayBuffer>} secret
   */
  async showKey(epoch, secret) {
    if (epoch < this.keyEpoch || this.closed) return;
    this.keyEpoch = epoch;
    const code = await keyCode(secret);
    if (this.closed || epoch !== this.keyEpoch) return;
    this.root.dataset.keyEpoch = String(epoch);
    this.root.dataset.keyCode = code;
    if (this.keyBox instanceof HTMLElement) {
      this.keyBox.hidden = false;
      const text = this.keyBox.querySelector(".key-code-value");
      if (text) text.textContent = code;
    }
  }

  /** Leaves the room (the page hangs up, Janus ended it, or the call goes back to a direct one):
   * the call screen is a plain call screen again and shows no key any more. */
  end() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.statsTimer);
    for (const feed of [...this.tiles.keys()]) this.drop(feed);
    this.publisher?.close();
    this.session?.close();
    this.grid.hidden = true;
    for (const key of ["mode", "participants", "keyEpoch", "keyCode", "sendEpoch", "receiveEpoch", "dropped"]) delete this.root.dataset[key];
    if (this.keyBox instanceof HTMLElement) this.keyBox.hidden = true;
    this.onclose();
  }
}

/**
 * VP8 first: its frames keep a known clear prefix (docs/e2ee.md) and every browser decodes it.
 * @param {RTCRtpTransceiver} transceiver
 * @param {string} kind
 */
function preferVp8(transceiver, kind) {
  if (kind !== "video" || !transceiver.setCodecPreferences) return;
  const codecs = RTCRtpReceiver.getCapabilities("video")?.codecs ?? [];
  const vp8 = codecs.filter((c) => c.mimeType === "video/VP8");
  if (vp8.length) transceiver.setCodecPreferences([...vp8, ...codecs.filter((c) => c.mimeType !== "video/VP8")]);
}

/** How often a participant's page asks whether it is admitted and whether a new key came. */
const SEAT_POLL_MS = 2000;

/**
 * A participant's side (patient or guest): its call key goes to the server, the doctor's browser
 * seals the conference key to it, and this page opens the grants as they come (the key relay of
 * docs/signalling.md). Joins the room once admitted and holding a key; asks Django for a fresh
 * Janus token before the old one runs out.
 */
export class ConferenceSeat {
  /**
   * @param {string} token the patient's or guest's token
   * @param {ConferenceView} view
   */
  constructor(token, view) {
    this.token = token;
    this.view = view;
    /** @type {{keyPair: CryptoKeyPair, publicKey: string} | null} */
    this.callKey = null;
    this.lastGrant = "";
    this.joined = false;
    this.stopped = false;
    /** @type {(state: "waiting" | "joining" | "in" | "removed" | "ended", message?: string) => void} */
    this.onstate = () => {};
    /** Called at every look while the doctor has this participant admitted (in the room or not). */
    this.onadmitted = () => {};
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.expires = 0;
  }

  async start() {
    this.callKey = await newCallKey();
    await this.poll();
  }

  async poll() {
    if (this.stopped || !this.callKey) return;
    try {
      /** @type {{admitted: boolean, removed: boolean, ended: boolean, conference: string, grant: string | null}} */
      const state = await request("POST", "/api/konferenz/schluessel/", { token: this.token, call_key: this.callKey.publicKey });
      if (state.removed) return this.stop("removed", "Die Praxis hat Sie aus der Konferenz entlassen.");
      if (state.ended) return this.stop("ended", "Der Termin ist beendet.");
      if (state.grant && state.grant !== this.lastGrant) {
        const grant = await openGrant(state.grant, this.callKey, state.conference);
        this.view.crypto.useGrant(grant);
        this.lastGrant = state.grant;
        if (grant.names) this.view.setNames(new Map(Object.entries(grant.names)));
        await this.view.showKey(grant.epoch, grant.secret);
      }
      if (state.admitted) this.onadmitted();
      if (!state.admitted) this.onstate("waiting");
      // Joining (Janus session, publishing, ICE) can take longer than PRESENCE_SECONDS on a slow
      // phone: the page goes on asking meanwhile, or the doctor's page would take it out of the key.
      else if (!this.joined && this.lastGrant) this.join().catch((error) => this.failed(error));
      else if (this.joined && this.expires && Date.now() > this.expires - 120_000) await this.refresh();
    } catch (error) {
      if (this.failed(error)) return;
    }
    this.timer = setTimeout(() => this.poll(), SEAT_POLL_MS);
  }

  /**
   * A 403 ends this page's part (the code expired, the appointment is over); anything else is
   * tried again at the next look.
   * @param {unknown} error
   * @returns {boolean} whether it ended
   */
  failed(error) {
    if (!(error instanceof ApiError && error.status === 403)) return false;
    this.stop("ended", error.message);
    return true;
  }

  async access() {
    /** @type {janus.JanusAccess & {role: string}} */
    const access = await request("POST", "/api/konferenz/zugang/", { token: this.token });
    this.expires = Date.parse(access.expires);
    return access;
  }

  async join() {
    this.onstate("joining");
    this.joined = true;
    this.view.onclose = () => this.stop("ended", "Die Konferenz ist für Sie beendet.");
    try {
      await this.view.join(await this.access());
    } catch (error) {
      this.joined = false;
      this.view.end();
      throw error;
    }
    this.onstate("in");
  }

  async refresh() {
    const access = await this.access();
    this.view.session?.setToken(access.token);
  }

  /**
   * This participant hangs up: the server takes them out of the room and, through the doctor's
   * browser, out of the key (a new epoch for those who stay); this page drops its keys.
   * @param {string} message
   */
  async leave(message) {
    if (this.stopped) return;
    const stopping = request("POST", "/api/konferenz/verlassen/", { token: this.token }).catch(() => {});
    this.stop("ended", message);
    await stopping;
  }

  /** Out of the room without a word to the page (the doctor's page moves the call back to a
   * direct one): keys dropped, polling ended, the call screen a plain one again. */
  quit() {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.view.onclose = () => {};
    this.view.end();
    this.view.crypto.close();
  }

  /**
   * @param {"removed" | "ended"} state
   * @param {string} message
   */
  stop(state, message) {
    if (this.stopped) return;
    this.quit();
    this.onstate(state, message);
  }
}
