// @ts-check
// The page's handle on frame encryption (docs/e2ee.md, "Conferences: frame encryption (SFrame)"):
// one FrameCrypto per participant and page starts the frame worker (lib/sframeworker.js), puts its
// transform on every RTCRtpSender (encrypt) and RTCRtpReceiver (decrypt) it is given, and hands it
// the conference keys (lib/confkeys.js) as they come. Works on the peer connection to the SFU and on
// a direct one alike.

/**
 * Counts from the worker since it started (see sframeworker.js).
 * @typedef {object} FrameStats
 * @property {number} encrypted
 * @property {number} decrypted
 * @property {number} noKey frames a sender dropped because it had no key yet
 * @property {number} unknownKid frames dropped: no key for their key id
 * @property {number} authFailed frames dropped: tag did not match (tampered, or another key)
 * @property {number} malformed frames dropped: too short or no SFrame header
 * @property {number} errors frames dropped for an unforeseen error (a WebCrypto failure)
 * @property {number} encryptMicros summed over `encrypted`
 * @property {number} decryptMicros summed over `decrypted`
 * @property {number} encryptedBytes plaintext bytes encrypted
 * @property {number} lastKid key id of the last frame opened, -1 before the first
 * @property {number | null} sendKid key id frames are sent with, null before sendWith
 */

/** @typedef {{encodedInsertableStreams?: boolean}} EncodedStreamsConfig */

/**
 * The Chromium API before RTCRtpScriptTransform: the page takes the frame streams and hands them on.
 * @typedef {{createEncodedStreams?: () => {readable: ReadableStream, writable: WritableStream}}} LegacyEndpoint
 */

/** @returns {boolean} the browser can transform encoded frames in a worker at all */
export function frameEncryptionSupported() {
  return typeof RTCRtpScriptTransform !== "undefined" || "createEncodedStreams" in RTCRtpSender.prototype;
}

/**
 * What to add to an RTCPeerConnection's configuration before frames can be transformed: nothing with
 * RTCRtpScriptTransform, `encodedInsertableStreams` where only createEncodedStreams exists.
 * @returns {RTCConfiguration & EncodedStreamsConfig}
 */
export function peerConnectionConfig() {
  return typeof RTCRtpScriptTransform !== "undefined" ? {} : { encodedInsertableStreams: true };
}

export class FrameCrypto {
  /** @param {string | URL} [workerUrl] the frame worker module; next to this module by default */
  constructor(workerUrl = new URL("./sframeworker.js", import.meta.url)) {
    this.worker = new Worker(workerUrl, { type: "module", name: "sframe" });
    /** @type {Map<number, (stats: FrameStats) => void>} */
    this.pending = new Map();
    this.nextId = 1;
    this.worker.onmessage = (event) => {
      const resolve = this.pending.get(event.data.id);
      this.pending.delete(event.data.id);
      resolve?.(event.data.stats);
    };
  }

  /**
   * Hold a conference key (a receiver holds the last three during a change).
   * @param {number} epoch
   * @param {Uint8Array<ArrayBuffer>} secret
   */
  addEpoch(epoch, secret) {
    this.worker.postMessage({ type: "epoch", epoch, secret });
  }

  /** @param {number} epoch */
  removeEpoch(epoch) {
    this.worker.postMessage({ type: "remove-epoch", epoch });
  }

  /**
   * Encrypt with this epoch's key from now on (after addEpoch), as the given sender.
   * @param {number} epoch
   * @param {number} sender this participant's index in the conference
   */
  sendWith(epoch, sender) {
    this.worker.postMessage({ type: "send", epoch, sender });
  }

  /**
   * A conference grant (lib/confkeys.js, openGrant): hold its key and send with it.
   * @param {{epoch: number, sender: number, secret: Uint8Array<ArrayBuffer>}} grant
   */
  useGrant(grant) {
    this.addEpoch(grant.epoch, grant.secret);
    this.sendWith(grant.epoch, grant.sender);
  }

  /**
   * Call before the sender's first frame (right after addTrack/addTransceiver); the transform stays
   * through replaceTrack (camera to screen and back).
   * @param {RTCRtpSender} sender its frames leave encrypted (frames before a key are dropped)
   * @param {"audio" | "video"} [kind] needed when the sender has no track yet
   */
  encrypt(sender, kind = sender.track?.kind === "audio" ? "audio" : "video") {
    this.attach(sender, { role: "encrypt", kind });
  }

  /**
   * Call in the peer connection's `ontrack`, before its first frame.
   * @param {RTCRtpReceiver} receiver its frames are decrypted before the decoder sees them
   */
  decrypt(receiver) {
    const kind = receiver.track.kind === "audio" ? "audio" : "video";
    this.attach(receiver, { role: "decrypt", kind });
  }

  /**
   * @param {RTCRtpSender | RTCRtpReceiver} endpoint
   * @param {{role: "encrypt" | "decrypt", kind: "audio" | "video"}} options
   */
  attach(endpoint, options) {
    if (typeof RTCRtpScriptTransform !== "undefined") {
      endpoint.transform = new RTCRtpScriptTransform(this.worker, options);
      return;
    }
    const legacy = /** @type {LegacyEndpoint} */ (/** @type {unknown} */ (endpoint));
    if (!legacy.createEncodedStreams) throw new Error("encoded frames cannot be transformed in this browser");
    const { readable, writable } = legacy.createEncodedStreams();
    this.worker.postMessage({ type: "streams", readable, writable, options }, [readable, writable]);
  }

  /** @returns {Promise<FrameStats>} */
  stats() {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ type: "stats", id });
    });
  }

  /** Stops the worker: its keys are gone, frames through it stop. */
  close() {
    this.worker.terminate();
  }
}
