// Camera and microphone: access, device choice and German messages for what can go wrong.

export function webrtcSupported() {
  return Boolean(window.RTCPeerConnection && navigator.mediaDevices?.getUserMedia);
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

/** Fills two <select>s with the cameras and microphones, keeping the current choice. */
export async function listDevices(cameraSelect, microphoneSelect, stream) {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const current = {
    videoinput: stream?.getVideoTracks()[0]?.getSettings().deviceId,
    audioinput: stream?.getAudioTracks()[0]?.getSettings().deviceId,
  };
  for (const [select, kind, label] of [[cameraSelect, "videoinput", "Kamera"], [microphoneSelect, "audioinput", "Mikrofon"]]) {
    select.replaceChildren();
    devices.filter((d) => d.kind === kind).forEach((device, index) => {
      const option = new Option(device.label || `${label} ${index + 1}`, device.deviceId);
      option.selected = device.deviceId === current[kind];
      select.append(option);
    });
  }
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
