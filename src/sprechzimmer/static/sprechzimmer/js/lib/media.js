// @ts-check
// Camera and microphone: access, device choice and German messages for what can go wrong.

/**
 * Which camera and microphone to open; the browser's default when left out.
 * @typedef {object} DeviceIds
 * @property {string} [cameraId]
 * @property {string} [microphoneId]
 */

/**
 * One camera or microphone, to choose from.
 * @typedef {object} DeviceChoice
 * @property {string} id the browser's deviceId
 * @property {string} label the device's name, or "Kamera 2" while the browser hides names
 * @property {boolean} current whether the stream uses it now
 */

/**
 * A device name as people read it: without the USB ids browsers append ("(046d:0825)") and with
 * the system default in German.
 * @param {string} label
 */
export function readableLabel(label) {
  return label
    .replace(/\s*\([0-9a-f]{4}:[0-9a-f]{4}\)\s*$/i, "")
    .replace(/^Default - /, "Standard – ")
    .replace(/^Communications - /, "Kommunikation – ")
    .trim();
}

export function webrtcSupported() {
  return Boolean(globalThis.RTCPeerConnection && navigator.mediaDevices?.getUserMedia);
}

/**
 * What to tell the person when getUserMedia failed.
 * @param {unknown} error what getUserMedia threw (a DOMException by name)
 * @returns {string}
 */
export function explain(error) {
  // By name, whatever the class of what getUserMedia threw.
  const name = error && typeof error === "object" && "name" in error ? error.name : undefined;
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Sie haben den Zugriff auf Kamera und Mikrofon nicht erlaubt. Bitte erlauben Sie ihn in der Adresszeile Ihres Browsers (Schloss-Symbol) und versuchen Sie es dann erneut.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "Es wurde keine Kamera oder kein Mikrofon gefunden. Bitte schließen Sie ein Gerät an.";
    case "NotReadableError":
      return "Kamera oder Mikrofon werden gerade von einem anderen Programm benutzt. Bitte schließen Sie es und versuchen Sie es erneut.";
    default:
      return "Kamera und Mikrofon konnten nicht gestartet werden. Bitte versuchen Sie es erneut.";
  }
}

/**
 * @param {DeviceIds} [ids]
 * @returns {Promise<MediaStream>}
 */
export function open({ cameraId, microphoneId } = {}) {
  return navigator.mediaDevices.getUserMedia({
    video: cameraId ? { deviceId: { exact: cameraId } } : { width: { ideal: 1280 }, height: { ideal: 720 } },
    audio: microphoneId ? { deviceId: { exact: microphoneId } } : { echoCancellation: true, noiseSuppression: true },
  });
}

/**
 * The cameras and microphones, each marked when `stream` uses it. Browsers hide the names until
 * the page may use a device; then a device is "Kamera 2".
 * @param {MediaStream | null} [stream]
 * @returns {Promise<{cameras: DeviceChoice[], microphones: DeviceChoice[]}>}
 */
export async function listDevices(stream) {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const current = {
    videoinput: stream?.getVideoTracks()[0]?.getSettings().deviceId,
    audioinput: stream?.getAudioTracks()[0]?.getSettings().deviceId,
  };
  /** @type {(kind: "videoinput" | "audioinput", label: string) => DeviceChoice[]} */
  const choices = (kind, label) =>
    devices.filter((d) => d.kind === kind).map((device, index) => ({
      id: device.deviceId,
      label: readableLabel(device.label) || `${label} ${index + 1}`,
      current: device.deviceId === current[kind],
    }));
  return { cameras: choices("videoinput", "Kamera"), microphones: choices("audioinput", "Mikrofon") };
}

/**
 * Where this page's microphone and picture go: a direct call (lib/call.js) or a conference room
 * (ui/conference.js); `closed` once a room has ended.
 * @typedef {{setOutgoing(track: MediaStreamTrack): Promise<void>, closed?: boolean}} Outgoing
 */

/**
 * Replaces the tracks a call sends when the user picks another device.
 * @param {MediaStream} stream the local stream; its tracks are replaced in place
 * @param {{call: Outgoing, sharing: boolean} | null} call where the picture goes (the running call
 *   or a conference room), and whether it sends a shared screen instead of the camera
 * @param {DeviceIds} choice
 * @returns {Promise<MediaStream>} the same stream
 */
export async function switchDevices(stream, call, choice) {
  const fresh = await open(choice);
  for (const track of fresh.getTracks()) {
    const old = stream.getTracks().find((t) => t.kind === track.kind);
    if (old) {
      track.enabled = old.enabled;
      stream.removeTrack(old);
      old.stop();
    }
    stream.addTrack(track);
    // While a screen is shared the call keeps sending the screen; the new camera comes after.
    if (track.kind === "audio" || !call?.sharing) await call?.call.setOutgoing(track);
  }
  return stream;
}

export function screenShareSupported() {
  return Boolean(navigator.mediaDevices && "getDisplayMedia" in navigator.mediaDevices);
}

/**
 * Asks the person to pick a screen, window or tab to share (video only).
 * @returns {Promise<MediaStreamTrack>}
 */
export async function openScreen() {
  const display = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  const [track] = display.getVideoTracks();
  // Text and slides: keep them sharp rather than smooth.
  track.contentHint = "detail";
  return track;
}

/**
 * Why sharing did not start, or "" when the person simply cancelled the browser's picker.
 * @param {unknown} error
 */
export function explainScreen(error) {
  const name = error && typeof error === "object" && "name" in error ? error.name : undefined;
  if (name === "NotAllowedError" || name === "AbortError") return "";
  return "Der Bildschirm konnte nicht geteilt werden. Bitte versuchen Sie es erneut.";
}

/**
 * Stops every track of `stream`: the camera light goes off.
 * @param {MediaStream | null | undefined} stream
 */
export function stopAll(stream) {
  stream?.getTracks().forEach((track) => track.stop());
}
