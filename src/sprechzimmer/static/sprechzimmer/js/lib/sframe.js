// @ts-check
// Frame encryption for conferences (docs/e2ee.md, "Conferences: frame encryption (SFrame)"):
// the frame format and key schedule of SFrame (RFC 9605) with the cipher suite
// AES_256_GCM_SHA512_128, plus the conference's key ids (epoch and sender). Pure WebCrypto, no DOM,
// no network: the frame worker (lib/sframeworker.js), the page and Node all run it.

const subtle = globalThis.crypto.subtle;
const enc = new TextEncoder();

/** RFC 9605 § 4.5: AES_256_GCM_SHA512_128. */
export const CIPHER_SUITE = 0x0005;
const NK = 32; // AES-256 key
const NN = 12; // GCM nonce
const NT = 16; // GCM tag
const NH = 64; // SHA-512 output: the size of a sender's base key
/** Low bits of a key id that name the sender; the rest is the epoch (the conference key's number). */
export const SENDER_BITS = 4;
/** Senders one epoch can hold (the doctor and up to fifteen others). */
export const MAX_SENDERS = 2 ** SENDER_BITS;
/** Epochs a receiver keeps: the current one and those before it, for frames still in flight. */
export const KEEP_EPOCHS = 3;

/**
 * Bytes at the start of a frame left in clear (and authenticated as AAD): what the RTP packetizer,
 * the receiving depacketizer and the SFU read. VP8 (RFC 6386 § 9.1): the 3-byte frame tag, and on a
 * key frame also the start code and the dimensions (10 bytes). Audio and other codecs: none.
 * @param {"audio"|"video"} kind
 * @param {string | undefined} type the encoded frame's type: "key", "delta" (video only)
 * @param {string | undefined} mimeType e.g. "video/VP8"; unknown counts as VP8 (conferences use VP8)
 */
export function clearBytes(kind, type, mimeType) {
  if (kind !== "video") return 0;
  if (mimeType && mimeType.toLowerCase() !== "video/vp8") return 0;
  return type === "key" ? 10 : 3;
}

/** @param {number} value */
function checkUint(value) {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not an SFrame integer: ${value}`);
}

/** Bytes the big-endian form of value takes, at least one. @param {number} value */
function byteLength(value) {
  let n = 1;
  while (n < 8 && value >= 2 ** (8 * n)) n++;
  return n;
}

/**
 * @param {Uint8Array} out
 * @param {number} offset
 * @param {number} value
 * @param {number} length bytes, big-endian
 */
function writeUint(out, offset, value, length) {
  for (let i = length - 1; i >= 0; i--) {
    out[offset + i] = value % 256;
    value = Math.floor(value / 256);
  }
}

/**
 * @param {Uint8Array} bytes
 * @param {number} offset
 * @param {number} length
 * @returns {number} NaN above 2^53 - 1 (never written by us)
 */
function readUint(bytes, offset, length) {
  let value = 0;
  for (let i = 0; i < length; i++) value = value * 256 + /** @type {number} */ (bytes[offset + i]);
  return Number.isSafeInteger(value) ? value : NaN;
}

/** @param {number} value @param {number} length */
function uintBytes(value, length) {
  const out = new Uint8Array(length);
  writeUint(out, 0, value, length);
  return out;
}

/** @param {Uint8Array[]} parts */
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * The SFrame header (RFC 9605 § 4.3): a config byte |X|K K K|Y|C C C| then the key id and the
 * counter, each in the config byte itself when below 8, else in as few big-endian bytes as hold it.
 * @param {number} kid
 * @param {number} ctr
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function encodeHeader(kid, ctr) {
  checkUint(kid);
  checkUint(ctr);
  const klen = kid < 8 ? 0 : byteLength(kid);
  const clen = ctr < 8 ? 0 : byteLength(ctr);
  const out = new Uint8Array(1 + klen + clen);
  out[0] = (klen ? 0x80 | ((klen - 1) << 4) : kid << 4) | (clen ? 0x08 | (clen - 1) : ctr);
  writeUint(out, 1, kid, klen);
  writeUint(out, 1 + klen, ctr, clen);
  return out;
}

/**
 * @param {Uint8Array} bytes
 * @param {number} [offset] where the header starts
 * @returns {{kid: number, ctr: number, length: number} | null} null when the bytes end too early
 */
export function decodeHeader(bytes, offset = 0) {
  const config = bytes[offset];
  if (config === undefined) return null;
  const klen = config & 0x80 ? ((config >> 4) & 0x07) + 1 : 0;
  const clen = config & 0x08 ? (config & 0x07) + 1 : 0;
  const length = 1 + klen + clen;
  if (bytes.length < offset + length) return null;
  const kid = klen ? readUint(bytes, offset + 1, klen) : (config >> 4) & 0x07;
  const ctr = clen ? readUint(bytes, offset + 1 + klen, clen) : config & 0x07;
  if (Number.isNaN(kid) || Number.isNaN(ctr)) return null;
  return { kid, ctr, length };
}

/**
 * A key ready for frames: the AEAD key and nonce salt of one key id.
 * @typedef {object} FrameKey
 * @property {number} kid
 * @property {CryptoKey} key AES-256-GCM, not extractable
 * @property {Uint8Array<ArrayBuffer>} salt NN bytes
 */

/**
 * RFC 9605 § 4.4.2: sframe_secret = HKDF-Extract("", base_key); key and salt are HKDF-Expand of it
 * with the labels "SFrame 1.0 Secret key " / "SFrame 1.0 Secret salt " + KID (8 bytes) + cipher
 * suite (2 bytes). WebCrypto's HKDF is Extract then Expand, so each is one deriveBits.
 * @param {BufferSource} baseKey
 * @param {number} kid
 * @returns {Promise<FrameKey>}
 */
export async function deriveFrameKey(baseKey, kid) {
  checkUint(kid);
  const ikm = await subtle.importKey("raw", baseKey, "HKDF", false, ["deriveBits"]);
  /** @param {string} label @param {number} bytes */
  const expand = async (label, bytes) =>
    subtle.deriveBits(
      {
        name: "HKDF",
        hash: "SHA-512",
        salt: new Uint8Array(0),
        info: concat(enc.encode(label), uintBytes(kid, 8), uintBytes(CIPHER_SUITE, 2)),
      },
      ikm,
      bytes * 8,
    );
  const raw = await expand("SFrame 1.0 Secret key ", NK);
  const salt = new Uint8Array(await expand("SFrame 1.0 Secret salt ", NN));
  const key = await subtle.importKey("raw", raw, { name: "AES-GCM", length: NK * 8 }, false, ["encrypt", "decrypt"]);
  return { kid, key, salt };
}

/**
 * RFC 9605 § 4.4.3: the counter, big-endian in NN bytes, XOR the key's salt. Unique as long as a
 * counter is never used twice under one key id.
 * @param {Uint8Array} salt
 * @param {number} ctr
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function frameNonce(salt, ctr) {
  const nonce = uintBytes(ctr, NN);
  for (let i = 0; i < NN; i++) nonce[i] = /** @type {number} */ (nonce[i]) ^ /** @type {number} */ (salt[i]);
  return nonce;
}

/**
 * One frame out: clear prefix (the codec bytes) | SFrame header | AES-GCM(payload rest) with tag.
 * The AAD is header + clear prefix (RFC 9605's "metadata"), so the prefix cannot be changed either.
 * @param {FrameKey} frameKey
 * @param {number} ctr never used before under this key id
 * @param {Uint8Array<ArrayBuffer>} payload the encoded frame
 * @param {number} clear bytes of payload to leave in clear (clearBytes())
 * @returns {Promise<Uint8Array<ArrayBuffer>>}
 */
export async function encryptFrame(frameKey, ctr, payload, clear) {
  const n = Math.min(clear, payload.length);
  const header = encodeHeader(frameKey.kid, ctr);
  const prefix = payload.subarray(0, n);
  const sealed = await subtle.encrypt(
    { name: "AES-GCM", iv: frameNonce(frameKey.salt, ctr), additionalData: concat(header, prefix), tagLength: NT * 8 },
    frameKey.key,
    payload.subarray(n),
  );
  return concat(prefix, header, new Uint8Array(sealed));
}

/**
 * Why a frame did not open: "malformed" (too short, no header), "unknown-kid" (no key for its key
 * id: another epoch, not yet or no longer held), "auth" (the tag does not match: tampered with, or
 * sealed under another key with the same id).
 * @typedef {{ok: true, kid: number, ctr: number, payload: Uint8Array<ArrayBuffer>} |
 *   {ok: false, reason: "malformed" | "unknown-kid" | "auth", kid?: number}} OpenedFrame
 */

/**
 * @param {Uint8Array<ArrayBuffer>} data a frame as encryptFrame made it
 * @param {number} clear the same count the sender used (from the frame's kind and type)
 * @returns {{prefix: Uint8Array, header: Uint8Array, kid: number, ctr: number, sealed: Uint8Array<ArrayBuffer>} | null}
 */
export function parseFrame(data, clear) {
  if (data.length < clear) return null;
  const parsed = decodeHeader(data, clear);
  if (!parsed || data.length < clear + parsed.length + NT) return null;
  return {
    prefix: data.subarray(0, clear),
    header: data.subarray(clear, clear + parsed.length),
    kid: parsed.kid,
    ctr: parsed.ctr,
    sealed: data.subarray(clear + parsed.length),
  };
}

/**
 * @param {(kid: number) => FrameKey | undefined | Promise<FrameKey | undefined>} keyFor
 * @param {Uint8Array<ArrayBuffer>} data
 * @param {number} clear
 * @returns {Promise<OpenedFrame>} never throws for a bad frame
 */
export async function decryptFrame(keyFor, data, clear) {
  const frame = parseFrame(data, clear);
  if (!frame) return { ok: false, reason: "malformed" };
  const frameKey = await keyFor(frame.kid);
  if (!frameKey) return { ok: false, reason: "unknown-kid", kid: frame.kid };
  let plain;
  try {
    plain = await subtle.decrypt(
      {
        name: "AES-GCM",
        iv: frameNonce(frameKey.salt, frame.ctr),
        additionalData: concat(frame.header, frame.prefix),
        tagLength: NT * 8,
      },
      frameKey.key,
      frame.sealed,
    );
  } catch {
    return { ok: false, reason: "auth", kid: frame.kid };
  }
  return { ok: true, kid: frame.kid, ctr: frame.ctr, payload: concat(frame.prefix, new Uint8Array(plain)) };
}

// --- the conference's key ids -----------------------------------------------------------------

/**
 * A conference key id: epoch (which conference key) and sender (whose frames), so no two senders
 * ever share a key and their counters cannot collide.
 * @param {number} epoch
 * @param {number} sender 0 … MAX_SENDERS - 1
 */
export function conferenceKid(epoch, sender) {
  checkUint(epoch);
  if (!Number.isInteger(sender) || sender < 0 || sender >= MAX_SENDERS) throw new RangeError(`sender ${sender}`);
  return epoch * MAX_SENDERS + sender;
}

/** @param {number} kid */
export function splitKid(kid) {
  return { epoch: Math.floor(kid / MAX_SENDERS), sender: kid % MAX_SENDERS };
}

/**
 * A sender's SFrame base key from the epoch's conference key: HKDF-SHA512 with the key id in the
 * label (as RFC 9605 § 5.2 derives per-sender base keys from a group secret).
 * @param {BufferSource} epochSecret the conference key of the epoch (32 bytes)
 * @param {number} kid conferenceKid(epoch, sender)
 * @returns {Promise<ArrayBuffer>} NH bytes
 */
export async function senderBaseKey(epochSecret, kid) {
  checkUint(kid);
  const ikm = await subtle.importKey("raw", epochSecret, "HKDF", false, ["deriveBits"]);
  return subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-512",
      salt: new Uint8Array(0),
      info: concat(enc.encode("sprechzimmer/v1/sframe/sender"), uintBytes(kid, 8)),
    },
    ikm,
    NH * 8,
  );
}

/**
 * The keys one participant holds: conference keys by epoch (the last KEEP_EPOCHS), the frame keys
 * derived from them on first use, and what this participant sends with. One ring per participant
 * and page: every track's frames draw on the same counter.
 */
export class KeyRing {
  constructor() {
    /** @type {Map<number, Uint8Array<ArrayBuffer>>} epoch -> conference key */
    this.epochs = new Map();
    /** @type {Map<number, Promise<FrameKey>>} */
    this.frameKeys = new Map();
    /** @type {number | null} */
    this.sendKid = null;
    /** @type {Map<number, number>} next counter per key id sent with; never reset, so going back to
     * a key id (or being given the same epoch twice) cannot reuse a nonce */
    this.counters = new Map();
  }

  /**
   * @param {number} epoch
   * @param {Uint8Array<ArrayBuffer>} secret
   */
  addEpoch(epoch, secret) {
    checkUint(epoch);
    this.forgetKeysOf(epoch);
    this.epochs.set(epoch, secret);
    const kept = [...this.epochs.keys()].sort((a, b) => b - a);
    for (const old of kept.slice(KEEP_EPOCHS)) this.removeEpoch(old);
  }

  /** @param {number} epoch */
  removeEpoch(epoch) {
    this.epochs.delete(epoch);
    this.forgetKeysOf(epoch);
    if (this.sendKid !== null && splitKid(this.sendKid).epoch === epoch) this.sendKid = null;
  }

  /** @param {number} epoch */
  forgetKeysOf(epoch) {
    for (const kid of this.frameKeys.keys()) if (splitKid(kid).epoch === epoch) this.frameKeys.delete(kid);
  }

  /**
   * Encrypt from now on with (epoch, sender); a new key id's counter starts at 0.
   * @param {number} epoch one added with addEpoch
   * @param {number} sender
   */
  sendWith(epoch, sender) {
    if (!this.epochs.has(epoch)) throw new Error(`no key for epoch ${epoch}`);
    this.sendKid = conferenceKid(epoch, sender);
  }

  /**
   * @param {number} kid
   * @returns {Promise<FrameKey | undefined>}
   */
  keyFor(kid) {
    const known = this.frameKeys.get(kid);
    if (known) return known;
    const secret = this.epochs.get(splitKid(kid).epoch);
    if (!secret) return Promise.resolve(undefined);
    const derived = senderBaseKey(secret, kid).then((base) => deriveFrameKey(base, kid));
    this.frameKeys.set(kid, derived);
    return derived;
  }

  /**
   * @param {Uint8Array<ArrayBuffer>} payload
   * @param {number} clear
   * @returns {Promise<Uint8Array<ArrayBuffer> | null>} null without a send key: nothing leaves in clear
   */
  async encrypt(payload, clear) {
    const kid = this.sendKid;
    if (kid === null) return null;
    // taken before any await: frames encrypted concurrently never share a counter
    const ctr = this.counters.get(kid) ?? 0;
    this.counters.set(kid, ctr + 1);
    const frameKey = await this.keyFor(kid);
    if (!frameKey) return null;
    return encryptFrame(frameKey, ctr, payload, clear);
  }

  /**
   * @param {Uint8Array<ArrayBuffer>} data
   * @param {number} clear
   * @returns {Promise<OpenedFrame>}
   */
  decrypt(data, clear) {
    return decryptFrame((kid) => this.keyFor(kid), data, clear);
  }
}
