// @ts-check
// The camera and microphone choice (two <select>s of the devices lib/media.js lists), a live
// microphone level and a speaker test tone for the device check.
import * as media from "../lib/media.js";

/**
 * Fills two <select>s with the cameras and microphones, keeping the current choice.
 * @param {HTMLSelectElement} cameraSelect
 * @param {HTMLSelectElement} microphoneSelect
 * @param {MediaStream | null} stream the one in use, whose devices are selected
 */
export async function fillDeviceSelects(cameraSelect, microphoneSelect, stream) {
  const { cameras, microphones } = await media.listDevices(stream);
  /** @type {[HTMLSelectElement, media.DeviceChoice[]][]} */
  const lists = [[cameraSelect, cameras], [microphoneSelect, microphones]];
  for (const [select, choices] of lists) {
    select.replaceChildren();
    for (const choice of choices) {
      const option = new Option(choice.label, choice.id);
      option.selected = choice.current;
      select.append(option);
    }
  }
}

/** @type {AudioContext | null} one per page; browsers limit how many there may be */
let audio = null;

function audioContext() {
  audio ??= new AudioContext();
  if (audio.state === "suspended") audio.resume().catch(() => {});
  return audio;
}

/**
 * Shows the microphone's level on `meter` (0…1) until the returned function is called.
 * @param {MediaStream} stream
 * @param {HTMLMeterElement} meter
 * @returns {() => void} stops measuring
 */
export function showLevel(stream, meter) {
  if (!stream.getAudioTracks().length) return () => {};
  const context = audioContext();
  const source = context.createMediaStreamSource(stream);
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let running = true;
  const draw = () => {
    if (!running) return;
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    // Speech sits around 0.02–0.2 RMS; the square root spreads it over the bar.
    meter.value = Math.min(1, Math.sqrt(Math.sqrt(sum / samples.length)) * 1.4);
    meter.dataset.peak = String(Math.max(Number(meter.dataset.peak ?? 0), meter.value));
    requestAnimationFrame(draw);
  };
  draw();
  return () => {
    running = false;
    source.disconnect();
    meter.value = 0;
  };
}

/**
 * Plays a short, friendly two-note tone through the speaker (or headphones).
 * @returns {Promise<void>} resolves when the tone has ended
 */
export function playTestTone() {
  const context = audioContext();
  const gain = context.createGain();
  gain.connect(context.destination);
  const start = context.currentTime + 0.05;
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(0.25, start + 0.05);
  gain.gain.setValueAtTime(0.25, start + 1.1);
  gain.gain.linearRampToValueAtTime(0, start + 1.2);
  const notes = [523.25, 659.25];
  return new Promise((resolve) => {
    notes.forEach((frequency, index) => {
      const oscillator = context.createOscillator();
      oscillator.frequency.value = frequency;
      oscillator.connect(gain);
      oscillator.start(start + index * 0.6);
      oscillator.stop(start + index * 0.6 + 0.6);
      if (index === notes.length - 1) oscillator.onended = () => resolve();
    });
  });
}
