// @ts-check
// The device check (templates/video/_device_check.html) of the patient page and of the standalone
// check page: camera preview, choice of devices, microphone level, speaker tone, and what to do
// when the browser refused the camera. Nothing of it leaves the browser.
import * as media from "../lib/media.js";
import { fillDeviceSelects, playTestTone, showLevel } from "./devices.js";
import { find } from "./dom.js";

export class DeviceCheck {
  /** @param {HTMLElement} root the element that holds the check's controls */
  constructor(root) {
    /** @type {MediaStream | null} camera and microphone, once allowed */
    this.stream = null;
    /** @type {() => void} stops the microphone level */
    this.stopLevel = () => {};
    this.root = root;
    this.preview = find(root, "#preview", HTMLVideoElement);
    this.cameraSelect = find(root, "#check-camera", HTMLSelectElement);
    this.microphoneSelect = find(root, "#check-microphone", HTMLSelectElement);
    this.continueButton = find(root, "#check-continue", HTMLButtonElement);
    this.levelMeter = find(root, "#mic-level", HTMLMeterElement);
    for (const select of [this.cameraSelect, this.microphoneSelect]) {
      select.addEventListener("change", () => this.switchDevices());
    }
    find(root, "#check-retry", HTMLButtonElement).addEventListener("click", () => this.start());
    const hint = find(root, "#speaker-hint", HTMLElement);
    find(root, "#speaker-test", HTMLButtonElement).addEventListener("click", async () => {
      hint.textContent = "Sie sollten jetzt zwei Töne hören.";
      await playTestTone();
      hint.textContent = "Nichts gehört? Stellen Sie die Lautstärke höher oder schließen Sie Kopfhörer an.";
    });
  }

  /** @param {string | null} text the problem, or null when there is none */
  problem(text) {
    const problem = find(this.root, "#device-problem", HTMLElement);
    problem.hidden = text === null;
    find(problem, ".problem-text", HTMLElement).textContent = text ?? "";
    document.body.dataset.devices = text === null ? "ok" : "problem";
  }

  /** @param {MediaStream} fresh */
  use(fresh) {
    this.stream = fresh;
    this.preview.srcObject = fresh;
    this.stopLevel();
    this.stopLevel = showLevel(fresh, this.levelMeter);
  }

  /** Asks for camera and microphone; "continue" is possible only once both run. */
  async start() {
    this.problem(null);
    if (!media.webrtcSupported()) {
      return this.problem("Ihr Browser unterstützt keine Videosprechstunde. Bitte verwenden Sie einen aktuellen Browser wie Firefox, Chrome, Edge oder Safari.");
    }
    try {
      media.stopAll(this.stream);
      this.use(await media.open());
      await fillDeviceSelects(this.cameraSelect, this.microphoneSelect, this.stream);
      this.continueButton.disabled = false;
    } catch (error) {
      this.continueButton.disabled = true;
      this.problem(media.explain(error));
    }
  }

  async switchDevices() {
    media.stopAll(this.stream);
    try {
      this.use(await media.open({ cameraId: this.cameraSelect.value, microphoneId: this.microphoneSelect.value }));
    } catch (error) {
      this.problem(media.explain(error));
    }
  }

  /** Camera and microphone off (the standalone check, once done). */
  stop() {
    this.stopLevel();
    media.stopAll(this.stream);
    this.stream = null;
    this.preview.srcObject = null;
  }
}
