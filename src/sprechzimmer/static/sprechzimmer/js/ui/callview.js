// The call screen both sides share: videos, controls and the quality indicator. Expects the
// markup of templates/video/_call.html inside `root`.
import * as media from "../lib/media.js";
import { Call } from "../lib/call.js";
import { fillDeviceSelects } from "./devices.js";

export class CallView {
  /** @param {HTMLElement} root @param {MediaStream} stream */
  constructor(root, stream) {
    this.root = root;
    this.stream = stream;
    this.call = null;
    this.local = root.querySelector(".local-video");
    this.remote = root.querySelector(".remote-video");
    this.quality = root.querySelector(".quality");
    this.local.srcObject = stream;
    this.bind(".toggle-mic", (button) => this.toggle("audio", button, "Mikrofon"));
    this.bind(".toggle-cam", (button) => this.toggle("video", button, "Kamera"));
    this.bind(".toggle-self", (button) => {
      const hidden = this.local.classList.toggle("hidden-self");
      button.setAttribute("aria-pressed", String(hidden));
      button.textContent = hidden ? "Eigenes Bild zeigen" : "Eigenes Bild ausblenden";
    });
    this.bind(".fullscreen", () => {
      const stage = root.querySelector(".stage");
      if (document.fullscreenElement) document.exitFullscreen();
      else stage.requestFullscreen?.().catch(() => {});
    });
    const cameras = root.querySelector(".camera-select");
    const microphones = root.querySelector(".microphone-select");
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

  bind(selector, handler) {
    const button = this.root.querySelector(selector);
    button?.addEventListener("click", () => handler(button));
  }

  toggle(kind, button, label) {
    const tracks = kind === "audio" ? this.stream.getAudioTracks() : this.stream.getVideoTracks();
    const on = !tracks[0]?.enabled;
    tracks.forEach((t) => (t.enabled = on));
    button.setAttribute("aria-pressed", String(!on));
    button.textContent = on ? `${label} aus` : `${label} an`;
  }

  say(text) {
    this.root.querySelector(".call-status").textContent = text;
  }

  /**
   * Replaces the current call by a new one whose signals go through `signalling`, shown here.
   * @param {import("../lib/signalling.js").SignallingClient} signalling
   * @param {{polite: boolean, iceServers: RTCIceServer[]}} options
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

  /** Shows a call's remote media and state; the page keeps the call itself. */
  attach(call) {
    this.call = call;
    call.onRemoteStream = (remote) => {
      if (this.remote.srcObject !== remote) this.remote.srcObject = remote;
    };
    call.onState = (state) => {
      this.root.dataset.connectionState = state;
      const text = {
        connecting: "Verbindung wird aufgebaut …",
        connected: "Verbunden – Ende-zu-Ende-verschlüsselt",
        disconnected: "Verbindung unterbrochen – wird wiederhergestellt …",
        failed: "Verbindung unterbrochen – wird wiederhergestellt …",
      }[state];
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
