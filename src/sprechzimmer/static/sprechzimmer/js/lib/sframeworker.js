// @ts-check
// The frame worker (a module worker that lib/framecrypto.js starts): encrypts every encoded frame a
// sender gives it and decrypts every frame a receiver gets, with the participant's KeyRing
// (lib/sframe.js). Frames arrive through RTCRtpScriptTransform, or as streams the page transfers
// where only createEncodedStreams exists. A frame that cannot be sealed (no key yet) or opened
// (unknown key id, failed tag, malformed) is dropped and counted; nothing stops the pipeline.

import { KeyRing, clearBytes } from "./sframe.js";

/**
 * @typedef {object} TransformOptions what the page passes to RTCRtpScriptTransform
 * @property {"encrypt" | "decrypt"} role
 * @property {"audio" | "video"} kind
 */

/**
 * The part of an encoded audio or video frame the worker uses.
 * @typedef {object} EncodedFrame
 * @property {ArrayBuffer} data
 * @property {string} [type] video: "key", "delta" or "empty"
 * @property {() => {mimeType?: string}} getMetadata
 */

/**
 * RTCRtpScriptTransformer (the worker's end of an RTCRtpScriptTransform).
 * @typedef {object} Transformer
 * @property {ReadableStream<EncodedFrame>} readable
 * @property {WritableStream<EncodedFrame>} writable
 * @property {TransformOptions} options
 * @property {() => Promise<void>} [generateKeyFrame] sender side, where the browser has it
 * @property {() => Promise<void>} [sendKeyFrameRequest] receiver side, where the browser has it
 */

/**
 * What the page posts (framecrypto.js).
 * @typedef {{type: "epoch", epoch: number, secret: Uint8Array<ArrayBuffer>} |
 *   {type: "remove-epoch", epoch: number} |
 *   {type: "send", epoch: number, sender: number} |
 *   {type: "streams", readable: ReadableStream<EncodedFrame>, writable: WritableStream<EncodedFrame>,
 *     options: TransformOptions} |
 *   {type: "stats", id: number}} Command
 */

/**
 * The worker's global scope, as far as it is used here.
 * @typedef {object} WorkerScope
 * @property {((event: MessageEvent<Command>) => void) | null} onmessage
 * @property {((event: {transformer: Transformer}) => void) | null} onrtctransform
 * @property {(message: unknown) => void} postMessage
 */

const scope = /** @type {WorkerScope} */ (/** @type {unknown} */ (globalThis));
const ring = new KeyRing();
/** @type {Set<Transformer>} sender ends, asked for a key frame when the send key changes */
const senders = new Set();

/** Counts since the worker started; microseconds are summed over the frames they name. */
const stats = {
  encrypted: 0,
  decrypted: 0,
  /** sender had no key yet: frame dropped, nothing sent in clear */
  noKey: 0,
  unknownKid: 0,
  authFailed: 0,
  malformed: 0,
  /** frames dropped for an error nobody foresaw (a WebCrypto failure) */
  errors: 0,
  encryptMicros: 0,
  decryptMicros: 0,
  encryptedBytes: 0,
  lastKid: -1,
};

/**
 * @param {ReadableStream<EncodedFrame>} readable
 * @param {WritableStream<EncodedFrame>} writable
 * @param {TransformOptions} options
 * @param {Transformer} [transformer]
 */
function pipe(readable, writable, options, transformer) {
  const decrypting = options.role === "decrypt";
  let failing = false;
  if (!decrypting && transformer) senders.add(transformer);
  /** @param {EncodedFrame} frame @param {TransformStreamDefaultController<EncodedFrame>} controller */
  async function handle(frame, controller) {
    const data = new Uint8Array(frame.data);
    if (data.length === 0) {
      // Chromium hands on empty frames now and then (audio too): nothing to seal or open
      controller.enqueue(frame);
      return;
    }
    const clear = clearBytes(options.kind, frame.type, frame.getMetadata().mimeType);
    const started = performance.now();
    if (!decrypting) {
      const sealed = await ring.encrypt(data, clear);
      if (!sealed) {
        stats.noKey++;
        return;
      }
      stats.encryptMicros += (performance.now() - started) * 1000;
      stats.encrypted++;
      stats.encryptedBytes += data.length;
      frame.data = sealed.buffer;
      controller.enqueue(frame);
      return;
    }
    const opened = await ring.decrypt(data, clear);
    if (!opened.ok) {
      if (opened.reason === "unknown-kid") stats.unknownKid++;
      else if (opened.reason === "auth") stats.authFailed++;
      else stats.malformed++;
      failing = true;
      return;
    }
    stats.decryptMicros += (performance.now() - started) * 1000;
    stats.decrypted++;
    stats.lastKid = opened.kid;
    frame.data = opened.payload.buffer;
    controller.enqueue(frame);
    if (failing && frame.type === "delta") {
      // the decoder lost frames it depends on: ask the sender for a fresh key frame at once
      transformer?.sendKeyFrameRequest?.().catch(() => {});
    }
    failing = false;
  }
  const transform = new TransformStream({
    /** @param {EncodedFrame} frame @param {TransformStreamDefaultController<EncodedFrame>} controller */
    async transform(frame, controller) {
      try {
        await handle(frame, controller);
      } catch {
        // anything unforeseen costs this one frame, never the stream
        stats.errors++;
      }
    },
  });
  readable
    .pipeThrough(transform)
    .pipeTo(writable)
    .catch(() => {})
    .finally(() => {
      if (transformer) senders.delete(transformer);
    });
}

scope.onrtctransform = (event) => {
  const transformer = event.transformer;
  pipe(transformer.readable, transformer.writable, transformer.options, transformer);
};

scope.onmessage = (event) => {
  const command = event.data;
  switch (command.type) {
    case "epoch":
      ring.addEpoch(command.epoch, command.secret);
      break;
    case "remove-epoch":
      ring.removeEpoch(command.epoch);
      break;
    case "send": {
      const before = ring.sendKid;
      ring.sendWith(command.epoch, command.sender);
      if (ring.sendKid !== before) {
        // receivers that could not open the last frames start decoding again from a key frame
        for (const sender of senders) sender.generateKeyFrame?.().catch(() => {});
      }
      break;
    }
    case "streams":
      pipe(command.readable, command.writable, command.options);
      break;
    case "stats":
      scope.postMessage({ type: "stats", id: command.id, stats: { ...stats, sendKid: ring.sendKid } });
      break;
  }
};
