// @ts-check
// The call screen both sides share: full-bleed remote video, a movable self view, the controls
// (microphone, camera, screen, self view, fullscreen, devices, hang up with one question), the
// other side's microphone/camera state, a timer and the quality with details on demand.
// Expects the markup of templates/video/_call.html inside `root`.
import * as media from "../lib/media.js";
import { Call } from "../lib/call.js";
import { clock, number, withUnit } from "../lib/formats.js";
import { fillDeviceSelects } from "./devices.js";
import { find } from "./dom.js";

/** @type {Record<import("../lib/call.js").Quality["level"], string>} */
const LEVELS = { gut: "gut", mittel: "mittel", schlecht: "schlecht" };
/** Corners the self view snaps to (t/b = top/bottom, l/r = left/right). */
const CORNERS = ["tl", "tr", "br", "bl"];

export class CallView {
  /**
   * @param {HTMLElement} root the markup of templates/video/_call.html
   * @param {MediaStream} stream camera and microphone, shown here and sent in every call
   */
  constructor(root, stream) {
    /** The call screen. */
    this.root = root;
    /** Camera and microphone; a device switch replaces its tracks. */
    this.stream = stream;
    /** @type {Call | null} the call shown, if any */
    this.call = null;
    /** @type {import("../lib/signalling.js").SignallingClient | null} where media state goes */
    this.signalling = null;
    /** @type {MediaStreamTrack | null} the shared screen, while sharing */
    this.screen = null;
    /** @type {media.Outgoing | null} a conference room this screen is in (it sends instead of the call) */
    this.room = null;
    /** @type {number | null} when the call first connected (epoch ms) */
    this.startedAt = null;
    /** @type {number | undefined} */
    this.timerInterval = undefined;
    /** @type {() => void} the person confirmed "Auflegen"; the page ends the call */
    this.onHangup = () => {};
    /** Our own picture. */
    this.local = find(root, ".local-video", HTMLVideoElement);
    /** The other side's picture. */
    this.remote = find(root, ".remote-video", HTMLVideoElement);
    /** The quality indicator (a button that opens the details). */
    this.quality = find(root, ".quality", HTMLButtonElement);
    this.qualityDetails = find(root, ".quality-details", HTMLElement);
    this.timer = find(root, ".timer", HTMLElement);
    this.confirm = find(root, ".hangup-confirm", HTMLElement);
    this.devices = find(root, ".devices", HTMLElement);
    this.local.srcObject = stream;

    this.bind(".toggle-mic", (button) => this.toggle(button));
    this.bind(".toggle-cam", (button) => this.toggle(button));
    this.bind(".toggle-self", (button) => {
      const hidden = this.local.classList.toggle("hidden-self");
      button.setAttribute("aria-pressed", String(!hidden));
    });
    const share = find(root, ".toggle-share", HTMLButtonElement);
    // Screen sharing is part of plus: the server marks the call screen when the plan lacks it.
    share.hidden = !media.screenShareSupported() || root.dataset.screenSharing === "off";
    share.addEventListener("click", () => (this.screen ? this.stopSharing() : this.startSharing()));

    const fullscreen = find(root, ".fullscreen", HTMLButtonElement);
    fullscreen.hidden = !document.fullscreenEnabled;
    // The whole call container (controls included) goes fullscreen, never the bare video.
    const fullscreenTarget = root.closest("[data-fullscreen]") ?? root;
    fullscreen.addEventListener("click", () => {
      if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
      else fullscreenTarget.requestFullscreen().catch(() => {});
    });
    document.addEventListener("fullscreenchange", () => {
      fullscreen.setAttribute("aria-pressed", String(document.fullscreenElement === fullscreenTarget));
    });

    this.bind(".toggle-devices", (button) => this.togglePanel(this.devices, button));
    this.quality.addEventListener("click", () => this.togglePanel(this.qualityDetails, this.quality));
    this.bind(".hangup", () => {
      this.confirm.hidden = false;
      find(this.confirm, ".hangup-no", HTMLButtonElement).focus();
    });
    this.bind(".hangup-no", () => {
      this.confirm.hidden = true;
      find(root, ".hangup", HTMLButtonElement).focus();
    });
    this.bind(".hangup-yes", () => {
      this.confirm.hidden = true;
      this.onHangup();
    });
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        this.confirm.hidden = true;
        this.closePanels();
      }
    });
    this.movableSelfView();

    const cameras = find(root, ".camera-select", HTMLSelectElement);
    const microphones = find(root, ".microphone-select", HTMLSelectElement);
    fillDeviceSelects(cameras, microphones, stream).catch(() => {});
    const change = async () => {
      try {
        const target = this.outgoing();
        const call = target ? { call: target, sharing: Boolean(this.screen) } : null;
        await media.switchDevices(this.stream, call, { cameraId: cameras.value, microphoneId: microphones.value });
        if (!this.screen) this.local.srcObject = this.stream;
        this.applyEnabled();
      } catch (error) {
        this.say(media.explain(error));
      }
    };
    cameras.addEventListener("change", change);
    microphones.addEventListener("change", change);
  }

  /**
   * @param {string} selector a button of the call screen; none when the page left it out
   * @param {(button: HTMLElement) => void} handler
   */
  bind(selector, handler) {
    const button = this.root.querySelector(selector);
    if (button instanceof HTMLElement) button.addEventListener("click", () => handler(button));
  }

  /**
   * Opens or closes one of the small panels (devices, quality details); only one is open.
   * @param {HTMLElement} panel
   * @param {HTMLElement} button its button, which says whether it is open
   */
  togglePanel(panel, button) {
    const open = panel.hidden;
    this.closePanels();
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
  }

  closePanels() {
    for (const [panel, button] of [
      [this.devices, ".toggle-devices"],
      [this.qualityDetails, ".quality"],
    ]) {
      if (!(panel instanceof HTMLElement) || typeof button !== "string") continue;
      panel.hidden = true;
      this.root.querySelector(button)?.setAttribute("aria-expanded", "false");
    }
  }

  /**
   * Switches the microphone or the camera off or on; the other side is told.
   * @param {HTMLElement} button pressed = on
   */
  toggle(button) {
    const on = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(on));
    this.applyEnabled();
    this.sendMedia();
  }

  /** Enables the tracks as the two toggles say (also the fresh tracks after a device switch). */
  applyEnabled() {
    const micOff = this.root.querySelector(".toggle-mic")?.getAttribute("aria-pressed") === "false";
    const camOff = this.root.querySelector(".toggle-cam")?.getAttribute("aria-pressed") === "false";
    this.stream.getAudioTracks().forEach((t) => (t.enabled = !micOff));
    this.stream.getVideoTracks().forEach((t) => (t.enabled = !camOff));
    this.root.dataset.localCamera = camOff ? "off" : "on";
  }

  /** What our microphone, camera and screen do now. */
  mediaState() {
    return {
      audio: this.stream.getAudioTracks().some((t) => t.enabled),
      video: Boolean(this.screen) || this.stream.getVideoTracks().some((t) => t.enabled),
      screen: Boolean(this.screen),
    };
  }

  sendMedia() {
    if (this.call?.state === "connected") this.call.sendMedia(this.mediaState());
  }

  /**
   * The call moved into a conference room (issue 18): what this screen sends (camera or shared
   * screen) goes to the room from now on, until the room ends.
   * @param {media.Outgoing} room
   */
  useRoom(room) {
    this.room = room;
    if (this.screen) room.setOutgoing(this.screen).catch(() => {});
  }

  /** @returns {media.Outgoing | null} where our picture goes now: the room while in one, else the call */
  outgoing() {
    if (this.room && !this.room.closed) return this.room;
    return this.call;
  }

  async startSharing() {
    const target = this.outgoing();
    if (!target) return this.say("Sie können Ihren Bildschirm teilen, sobald das Gespräch läuft.");
    /** @type {MediaStreamTrack} */
    let track;
    try {
      track = await media.openScreen();
    } catch (error) {
      const text = media.explainScreen(error);
      if (text) this.say(text);
      return;
    }
    this.screen = track;
    // The browser's own "Freigabe beenden" ends the track: back to the camera.
    track.addEventListener("ended", () => this.stopSharing());
    await target.setOutgoing(track);
    this.local.srcObject = new MediaStream([track]);
    this.root.dataset.sharing = "true";
    find(this.root, ".toggle-share", HTMLElement).setAttribute("aria-pressed", "true");
    this.sendMedia();
  }

  async stopSharing() {
    const track = this.screen;
    if (!track) return;
    this.screen = null;
    track.stop();
    const camera = this.stream.getVideoTracks()[0];
    const target = this.outgoing();
    if (camera && target) await target.setOutgoing(camera);
    this.local.srcObject = this.stream;
    this.root.dataset.sharing = "false";
    find(this.root, ".toggle-share", HTMLElement).setAttribute("aria-pressed", "false");
    this.sendMedia();
  }

  /** The self view can be dragged (mouse, finger) or moved with the arrow keys; it snaps to a corner. */
  movableSelfView() {
    const video = this.local;
    const stage = find(this.root, ".stage", HTMLElement);
    /** @type {{x: number, y: number, left: number, top: number} | null} */
    let drag = null;
    video.addEventListener("pointerdown", (event) => {
      const box = video.getBoundingClientRect();
      const area = stage.getBoundingClientRect();
      drag = { x: event.clientX, y: event.clientY, left: box.left - area.left, top: box.top - area.top };
      video.setPointerCapture(event.pointerId);
      video.classList.add("dragging");
    });
    video.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const area = stage.getBoundingClientRect();
      const left = Math.min(Math.max(0, drag.left + event.clientX - drag.x), area.width - video.offsetWidth);
      const top = Math.min(Math.max(0, drag.top + event.clientY - drag.y), area.height - video.offsetHeight);
      video.style.left = `${left}px`;
      video.style.top = `${top}px`;
      video.style.right = video.style.bottom = "auto";
    });
    const drop = () => {
      if (!drag) return;
      drag = null;
      video.classList.remove("dragging");
      const box = video.getBoundingClientRect();
      const area = stage.getBoundingClientRect();
      const vertical = box.top + box.height / 2 < area.top + area.height / 2 ? "t" : "b";
      const horizontal = box.left + box.width / 2 < area.left + area.width / 2 ? "l" : "r";
      video.removeAttribute("style");
      video.dataset.corner = vertical + horizontal;
    };
    video.addEventListener("pointerup", drop);
    video.addEventListener("pointercancel", drop);
    video.addEventListener("keydown", (event) => {
      const corner = video.dataset.corner ?? "tr";
      const moves = {
        ArrowLeft: corner.replace("r", "l"),
        ArrowRight: corner.replace("l", "r"),
        ArrowUp: corner.replace("b", "t"),
        ArrowDown: corner.replace("t", "b"),
      };
      const next = moves[/** @type {keyof typeof moves} */ (event.key)];
      if (next && CORNERS.includes(next)) {
        event.preventDefault();
        video.dataset.corner = next;
      }
    });
  }

  /** @param {string} text */
  say(text) {
    find(this.root, ".call-status", HTMLElement).textContent = text;
  }

  /**
   * Replaces the current call by a new one whose signals go through `signalling`, shown here.
   * @param {import("../lib/signalling.js").SignallingClient} signalling
   * @param {{polite: boolean, iceServers: RTCIceServer[], sending?: boolean}} options
   * @returns {Call}
   */
  newCall(signalling, { polite, iceServers, sending = true }) {
    this.call?.close();
    this.signalling = signalling;
    const call = new Call({
      polite,
      iceServers,
      localStream: this.stream,
      sending,
      sendSignal: (payload) => signalling.send({ type: "signal", payload }),
    });
    if (this.screen) call.setOutgoing(this.screen);
    this.attach(call);
    return call;
  }

  /**
   * Shows a call's remote media and state; the page keeps the call itself.
   * @param {Call} call
   */
  attach(call) {
    this.call = call;
    // What the screen says about the connection is this call's from now on (a call after a
    // conference starts from nothing, not from the direct call before it).
    this.root.dataset.connectionState = call.state;
    delete this.root.dataset.framesDecoded;
    call.onRemoteStream = (remote) => {
      if (this.remote.srcObject !== remote) this.remote.srcObject = remote;
    };
    call.onState = (state) => {
      this.root.dataset.connectionState = state;
      if (!call.sending) return; // negotiated ahead of admission: nothing to show yet
      /** @type {Partial<Record<RTCPeerConnectionState, string>>} */
      const texts = {
        new: "Verbindung wird aufgebaut …",
        connecting: "Verbindung wird aufgebaut …",
        connected: "",
        disconnected: "Verbindung unterbrochen – wird wiederhergestellt …",
        failed: "Verbindung unterbrochen – wird wiederhergestellt …",
      };
      const text = texts[state];
      if (text !== undefined) this.say(text);
      if (state === "connected") {
        this.startTimer();
        this.sendMedia();
      }
    };
    call.onRemoteMedia = (state) => this.showRemoteMedia(state);
    call.onQuality = (quality) => this.showQuality(quality);
  }

  /**
   * The call is on screen now (admitted): controls, timer, the other side's picture.
   * @param {number | null} [startedAt] when it began, if it began before this page (a reload)
   */
  enterCall(startedAt = null) {
    this.root.dataset.phase = "call";
    this.timer.hidden = false;
    this.quality.hidden = false;
    if (startedAt) this.startTimer(startedAt);
    if (this.call?.state === "connected") {
      this.say("");
      this.startTimer();
      this.sendMedia();
    } else this.say("Verbindung wird aufgebaut …");
  }

  /** The other side left, the consultation is not over: no hang-up, no quality of a connection
   * that is gone (the timer goes on: it counts the consultation). */
  idle() {
    this.root.dataset.phase = "idle";
    this.quality.hidden = true;
    this.closePanels();
  }

  /** @param {number} [from] epoch ms */
  startTimer(from = Date.now()) {
    if (this.startedAt !== null) return;
    this.startedAt = from;
    const tick = () => {
      if (this.startedAt !== null) this.timer.textContent = clock((Date.now() - this.startedAt) / 1000);
    };
    tick();
    this.timerInterval = setInterval(tick, 1000);
  }

  /** @param {import("../lib/signalling.js").MediaState} state */
  showRemoteMedia(state) {
    this.root.dataset.remoteAudio = state.audio ? "on" : "off";
    this.root.dataset.remoteVideo = state.video ? "on" : "off";
    this.root.dataset.remoteScreen = String(state.screen);
    find(this.root, ".remote-mic-off", HTMLElement).hidden = state.audio;
    find(this.root, ".remote-cam-off", HTMLElement).hidden = state.video;
    find(this.root, ".remote-screen", HTMLElement).hidden = !state.screen;
  }

  /** @param {import("../lib/call.js").Quality} quality */
  showQuality({ level, rtt, loss, fps, framesDecoded, width, height }) {
    this.quality.dataset.level = level;
    this.root.dataset.framesDecoded = String(framesDecoded);
    if (width && height) {
      this.root.dataset.remoteWidth = String(width);
      this.root.dataset.remoteHeight = String(height);
    }
    find(this.quality, ".quality-text", HTMLElement).textContent = `Verbindungsqualität: ${LEVELS[level]}`;
    /** @type {[string, string][]} */
    const rows = [
      ["Laufzeit (hin und zurück)", rtt === null ? "–" : withUnit(rtt, "ms")],
      ["Paketverlust", withUnit(loss * 100, "%", 1)],
      ["Bilder pro Sekunde", fps === null ? "–" : number(fps)],
      ["Bildgröße", width && height ? `${number(width)} × ${number(height)}` : "–"],
    ];
    this.qualityDetails.replaceChildren(
      ...rows.flatMap(([term, value]) => {
        const dt = document.createElement("dt");
        dt.textContent = term;
        const dd = document.createElement("dd");
        dd.textContent = value;
        return [dt, dd];
      }),
    );
  }

  /**
   * The call is over for this page: a clear end state; camera, microphone and a shared screen
   * are released (the camera light goes off).
   * @param {string} message why it ended
   */
  end(message) {
    this.call?.close();
    this.call = null;
    this.stop();
    clearInterval(this.timerInterval);
    this.root.dataset.phase = "ended";
    this.confirm.hidden = true;
    this.closePanels();
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    find(this.root, ".stage", HTMLElement).hidden = true;
    find(this.root, ".call-ended", HTMLElement).hidden = false;
    find(this.root, ".ended-message", HTMLElement).textContent = message;
    find(this.root, ".ended-duration", HTMLElement).textContent =
      this.startedAt === null ? "" : `Dauer: ${clock((Date.now() - this.startedAt) / 1000)} (Minuten:Sekunden)`;
  }

  /** Releases camera, microphone and a shared screen. */
  stop() {
    this.screen?.stop();
    this.screen = null;
    media.stopAll(this.stream);
    this.local.srcObject = null;
    this.remote.srcObject = null;
  }
}
