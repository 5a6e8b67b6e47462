// @ts-check
// The camera and microphone choice: two <select>s of the devices lib/media.js lists.
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
