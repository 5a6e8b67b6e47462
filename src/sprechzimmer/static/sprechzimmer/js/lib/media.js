// Camera and microphone: access, device choice and German messages for what can go wrong.

export function webrtcSupported() {
  return Boolean(globalThis.RTCPeerConnection && navigator.mediaDevices?.getUserMedia);
}

export function explain(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Sie haben den Zugriff auf Kamera und Mikrofon nicht erlaubt. Bitte erlauben Sie ihn in der Adresszeile Ihres Browsers (Schloss-Symbol) und laden Sie die Seite neu.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "Es wurde keine Kamera oder kein Mikrofon gefunden. Bitte schließen Sie ein Gerät an.";
    case "NotReadableError":
      return "Kamera oder Mikrofon werden gerade von einem anderen Programm benutzt. Bitte schließen Sie es und versuchen Sie es erneut.";
    default:
      return "Kamera und Mikrofon konnten nicht gestartet werden. Bitte versuchen Sie es erneut.";
  }
}

/** @returns {Promise<MediaStream>} */
export function open({ cameraId, microphoneId } = {}) {
  return navigator.mediaDevices.getUserMedia({
    video: cameraId ? { deviceId: { exact: cameraId } } : { width: { ideal: 1280 }, height: { ideal: 720 } },
    audio: microphoneId ? { deviceId: { exact: microphoneId } } : { echoCancellation: true, noiseSuppression: true },
  });
}

/**
 * The cameras and microphones, each marked when `stream` uses it. Browsers hide the names until
 * the page may use a device; then a device is "Kamera 2".
 */
export async function listDevices(stream) {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const current = {
    videoinput: stream?.getVideoTracks()[0]?.getSettings().deviceId,
    audioinput: stream?.getAudioTracks()[0]?.getSettings().deviceId,
  };
  const choices = (kind, label) =>
    devices.filter((d) => d.kind === kind).map((device, index) => ({
      id: device.deviceId,
      label: device.label || `${label} ${index + 1}`,
      current: device.deviceId === current[kind],
    }));
  return { cameras: choices("videoinput", "Kamera"), microphones: choices("audioinput", "Mikrofon") };
}

/** Replaces the tracks a call sends when the user picks another device. */
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
    const sender = call?.pc.getSenders().find((s) => s.track?.kind === track.kind);
    await sender?.replaceTrack(track);
  }
  return stream;
}
