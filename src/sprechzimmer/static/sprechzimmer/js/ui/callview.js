// @ts-check
// The call screen both sides share: videos, controls and the quality indicator. Expects the
// markup of templates/video/_call.html inside `root`.
import * as media from "../lib/media.js";
import { Call } from "../lib/call.js";
import { fillDeviceSelects } from "./devices.js";
import { find } from "./dom.js";

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
    /** Our own picture. */
    this.local = find(root, ".local-video", HTMLVideoElement);
    /** The other side's picture. */
    this.remote = find(root, ".remote-video", HTMLVideoElement);
    /** The quality indicator. */
    this.quality = find(root, ".quality", HTMLElement);
    this.local.srcObject = stream;
    this.bind(".toggle-mic", (button) => this.toggle("audio", button, "Mikrofon"));
    this.bind(".toggle-cam", (button) => this.toggle("video", button, "Kamera"));
    this.bind(".toggle-self", (button) => {
      const hidden = this.local.classList.toggle("hidden-self");
      button.setAttribute("aria-pressed", String(hidden));
      button.textContent = hidden ? "Eigenes Bild zeigen" : "Eigenes Bild ausblenden";
    });
    this.bind(".fullscreen", () => {
      const stage = find(root, ".stage", HTMLElement);
      if (document.fullscreenElement) document.exitFullscreen();
      else stage.requestFullscreen?.().catch(() => {});
    });
    const cameras = find(root, ".camera-select", HTMLSelectElement);
    const microphones = find(root, ".microphone-select", HTMLSelectElement);
    fillDeviceSelects(cameras, microphones, stream).catch(() => {});
    const change = async () => {
      try {
        await media.switchDevices(this.stream, this.call, { cameraId: cameras.value, microphoneId: microphones.value });
        this.local.srcObject = this.stream;
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
   * Mutes or unmutes the microphone or the camera.
   * @param {"audio" | "video"} kind
   * @param {HTMLElement} button
   * @param {string} label "Mikrofon" or "Kamera"
   */
  toggle(kind, button, label) {
    const tracks = kind === "audio" ? this.stream.getAudioTracks() : this.stream.getVideoTracks();
    const on = !tracks[0]?.enabled;
    tracks.forEach((t) => (t.enabled = on));
    button.setAttribute("aria-pressed", String(!on));
    button.textContent = on ? `${label} aus` : `${label} an`;
  }

  /** @param {string} text */
  say(text) {
    find(this.root, ".call-status", HTMLElement).textContent = text;
  }

  /**
   * Replaces the current call by a new one whose signals go through `signalling`, shown here.
   * @param {import("../lib/signalling.js").SignallingClient} signalling
   * @param {{polite: boolean, iceServers: RTCIceServer[]}} options
   * @returns {Call}
   */
  newCall(signalling, { polite, iceServers }) {
    this.call?.close();
    const call = new Call({
      polite,
      iceServers,
      localStream: this.stream,
      sendSignal: (payload) => signalling.send({ type: "signal", payload }),
    });
    this.attach(call);
    return call;
  }

  /**
   * Shows a call's remote media and state; the page keeps the call itself.
   * @param {Call} call
   */
  attach(call) {
    this.call = call;
    call.onRemoteStream = (remote) => {
      if (this.remote.srcObject !== remote) this.remote.srcObject = remote;
    };
    call.onState = (state) => {
      this.root.dataset.connectionState = state;
      /** @type {Partial<Record<RTCPeerConnectionState, string>>} */
      const texts = {
        connecting: "Verbindung wird aufgebaut …",
        connected: "Verbunden – Ende-zu-Ende-verschlüsselt",
        disconnected: "Verbindung unterbrochen – wird wiederhergestellt …",
        failed: "Verbindung unterbrochen – wird wiederhergestellt …",
      };
      const text = texts[state];
      if (text) this.say(text);
    };
    call.onQuality = ({ level, rtt, loss, fps, framesDecoded }) => {
      this.quality.dataset.level = level;
      this.root.dataset.framesDecoded = String(framesDecoded);
      this.quality.textContent = `Verbindungsqualität: ${level}` + (rtt !== null ? ` (${Math.round(rtt)} ms` : " (") +
        `, Verlust ${(loss * 100).toFixed(1)} %` + (fps ? `, ${Math.round(fps)} Bilder/s)` : ")");
    };
  }

  stop() {
    this.stream.getTracks().forEach((t) => t.stop());
  }
}
