// @ts-check
// End-to-end encryption primitives (docs/e2ee.md). Pure WebCrypto, no DOM, no network.
// Every envelope is JSON {v: 1, alg, iv, ct, ...} with base64url values (and, for what the practice
// key seals, the key version as `kid`); the server checks only
// its shape (accounts/keyblobs.py) and the demo data (accounts/demo_keys.py) writes the same.

const subtle = globalThis.crypto.subtle;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** PBKDF2-SHA256 iterations (OWASP 2023 recommendation; BSI TR-02102 allows PBKDF2 with SHA-256). */
export const PBKDF2_ITERATIONS = 600000;
export const MIN_PASSWORD_LENGTH = 10;
const INFO = {
  auth: "sprechzimmer/v1/auth",
  keyWrap: "sprechzimmer/v1/key-wrap",
  privateKey: "sprechzimmer/v1/private-key",
  ecies: "sprechzimmer/v1/ecies",
  recovery: "sprechzimmer/v1/recovery",
  recoveryEcdh: "sprechzimmer/v1/recovery-ecdh",
};
const ALG = {
  passwordWrap: "PBKDF2-HKDF-A256GCM",
  ecies: "ECDH-P256-HKDF-A256GCM",
  recovery: "RECOVERY-HKDF-A256GCM",
  record: "A256GCM",
};
const EC = { name: "ECDH", namedCurve: "P-256" };

/**
 * A sealed value as it travels and is stored: JSON text of this object, every byte string in
 * base64url.
 * @typedef {object} Envelope
 * @property {1} v format version
 * @property {string} alg one of ALG's values: what sealed it
 * @property {string} iv AES-GCM nonce, 12 bytes
 * @property {string} ct ciphertext with the 16-byte tag
 * @property {string} [epk] ECIES only: the sender's ephemeral public key (SPKI)
 * @property {number} [kid] the practice key version that sealed it; absent in envelopes from before
 *   key versions, which are version 1
 */

/** @param {ArrayBuffer|Uint8Array} bytes */
export function b64u(bytes) {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let bin = "";
  for (const b of view) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** @param {string} text */
export function unb64u(text) {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** @param {number} n */
function randomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/**
 * @param {BufferSource} secret input keying material
 * @param {string} info the label that separates this key from every other key of the same secret
 * @param {BufferSource} [salt]
 * @returns {Promise<CryptoKey>}
 */
async function hkdfKey(secret, info, salt = new Uint8Array(0)) {
  // RFC 5869 HKDF-SHA256 -> AES-256-GCM key (NIST SP 800-38D), not extractable.
  const base = await subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
  return subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt, info: enc.encode(info) },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/**
 * AES-256-GCM with associated data: the envelope opens only under the same `aad`.
 * @param {CryptoKey} key
 * @param {BufferSource} plaintext
 * @param {string} aad
 * @param {string} alg
 * @param {{epk?: string, kid?: number}} [extra]
 * @returns {Promise<string>} the envelope as JSON text
 */
async function seal(key, plaintext, aad, alg, extra = {}) {
  const iv = randomBytes(12);
  const ct = await subtle.encrypt({ name: "AES-GCM", iv, additionalData: enc.encode(aad) }, key, plaintext);
  return JSON.stringify({ v: 1, alg, ...extra, iv: b64u(iv), ct: b64u(ct) });
}

/**
 * @param {CryptoKey} key
 * @param {string | Envelope} envelope
 * @param {string} aad
 * @param {string} alg the algorithm the caller expects; any other is refused
 * @returns {Promise<Uint8Array<ArrayBuffer>>}
 */
async function open(key, envelope, aad, alg) {
  /** @type {Envelope} */
  const data = typeof envelope === "string" ? JSON.parse(envelope) : envelope;
  if (data.v !== 1 || data.alg !== alg) throw new Error(`unexpected envelope ${data.alg}`);
  return new Uint8Array(
    await subtle.decrypt({ name: "AES-GCM", iv: unb64u(data.iv), additionalData: enc.encode(aad) }, key, unb64u(data.ct)),
  );
}

/**
 * Normalised e-mail: the PBKDF2 salt, so a login needs no round trip before the password is sent.
 * @param {string} email
 */
export function normaliseEmail(email) {
  return email.trim().toLowerCase();
}

/**
 * Password -> (authentication secret, key-wrapping key). PBKDF2-SHA256 (RFC 8018) then HKDF
 * (RFC 5869) with two labels, so the secret the server sees cannot unwrap anything.
 * @param {string} email
 * @param {string} password as typed; normalised to NFC
 * @returns {Promise<{authSecret: string, kek: CryptoKey}>}
 */
export async function deriveLoginSecrets(email, password) {
  const salt = enc.encode("sprechzimmer/v1/" + normaliseEmail(email));
  const base = await subtle.importKey("raw", enc.encode(password.normalize("NFC")), "PBKDF2", false, ["deriveBits"]);
  const master = await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: PBKDF2_ITERATIONS }, base, 256);
  const hk = await subtle.importKey("raw", master, "HKDF", false, ["deriveBits"]);
  const auth = await subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: enc.encode(INFO.auth) },
    hk,
    256,
  );
  const kek = await hkdfKey(master, INFO.keyWrap);
  return { authSecret: b64u(auth), kek };
}

/** A member's ECDH P-256 key pair (NIST SP 800-56A). @returns {Promise<CryptoKeyPair>} */
export function generateKeyPair() {
  return subtle.generateKey(EC, true, ["deriveBits"]);
}

/**
 * @param {CryptoKey} publicKey
 * @returns {Promise<string>} SPKI, base64url: the form the server stores and shows as fingerprint
 */
export async function exportPublicKey(publicKey) {
  return b64u(await subtle.exportKey("spki", publicKey));
}

/**
 * Private key (PKCS#8) sealed under the password-derived key.
 * @param {CryptoKey} privateKey extractable (a fresh pair)
 * @param {CryptoKey} kek from deriveLoginSecrets
 * @returns {Promise<string>} envelope
 */
export async function wrapPrivateKey(privateKey, kek) {
  const pkcs8 = await subtle.exportKey("pkcs8", privateKey);
  return seal(kek, pkcs8, INFO.privateKey, ALG.passwordWrap);
}

/**
 * @param {string} envelope from wrapPrivateKey
 * @param {CryptoKey} kek
 * @returns {Promise<CryptoKey>} the private key, not extractable.
 */
export async function unwrapPrivateKey(envelope, kek) {
  const pkcs8 = await open(kek, envelope, INFO.privateKey, ALG.passwordWrap);
  return subtle.importKey("pkcs8", pkcs8, EC, false, ["deriveBits"]);
}

/**
 * Password change: the same private key under a new password, without ever importing it.
 * @param {string} envelope
 * @param {CryptoKey} oldKek
 * @param {CryptoKey} newKek
 * @returns {Promise<string>} envelope
 */
export async function rewrapPrivateKey(envelope, oldKek, newKek) {
  const pkcs8 = await open(oldKek, envelope, INFO.privateKey, ALG.passwordWrap);
  return seal(newKek, pkcs8, INFO.privateKey, ALG.passwordWrap);
}

/** 32 random bytes: the practice data key (AES-256-GCM) in raw form, only ever held in memory. */
export function newPracticeKeyBytes() {
  return randomBytes(32);
}

/**
 * @param {BufferSource} raw 32 bytes
 * @returns {Promise<CryptoKey>} AES-256-GCM, not extractable
 */
export function importPracticeKey(raw) {
  return subtle.importKey("raw", raw, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/**
 * ECIES: wrap raw key bytes to a member's public key. Ephemeral-static ECDH P-256, HKDF-SHA256
 * with the ephemeral public key as salt, AES-256-GCM with the recipient's public key as AAD.
 * @param {BufferSource} raw
 * @param {string} recipientPublicKeyB64 SPKI, base64url
 * @returns {Promise<string>} envelope
 */
export async function wrapToPublicKey(raw, recipientPublicKeyB64) {
  const recipientSpki = unb64u(recipientPublicKeyB64);
  const recipient = await subtle.importKey("spki", recipientSpki, EC, false, []);
  const eph = await subtle.generateKey(EC, true, ["deriveBits"]);
  const shared = await subtle.deriveBits({ name: "ECDH", public: recipient }, eph.privateKey, 256);
  const epk = new Uint8Array(await subtle.exportKey("spki", eph.publicKey));
  const key = await hkdfKey(shared, INFO.ecies, epk);
  return seal(key, raw, recipientPublicKeyB64, ALG.ecies, { epk: b64u(epk) });
}

/**
 * @param {string} envelope from wrapToPublicKey
 * @param {CryptoKey} privateKey ours
 * @param {string} ownPublicKeyB64 ours, SPKI base64url, as the sender used it for the AAD
 * @returns {Promise<Uint8Array<ArrayBuffer>>} the raw key bytes wrapped to us.
 */
export async function unwrapFromPublicKey(envelope, privateKey, ownPublicKeyB64) {
  /** @type {Envelope} */
  const data = JSON.parse(envelope);
  if (data.epk === undefined) throw new Error(`unexpected envelope ${data.alg}`);
  const epk = unb64u(data.epk);
  const eph = await subtle.importKey("spki", epk, EC, false, []);
  const shared = await subtle.deriveBits({ name: "ECDH", public: eph }, privateKey, 256);
  const key = await hkdfKey(shared, INFO.ecies, epk);
  return open(key, data, ownPublicKeyB64, ALG.ecies);
}

// Recovery key: 160 random bits as 32 characters of Crockford's base32 in groups of four.
const B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** @returns {string} e.g. "ABCD-EFGH-…", eight groups of four */
export function newRecoveryKey() {
  const bytes = randomBytes(20);
  let bits = "";
  for (const b of bytes) bits += b.toString(2).padStart(8, "0");
  let text = "";
  for (let i = 0; i < bits.length; i += 5) text += B32[parseInt(bits.slice(i, i + 5), 2)];
  return (text.match(/.{4}/g) ?? []).join("-");
}

/**
 * @param {string} text as typed: case, spaces, dashes and the look-alikes O, I, L do not matter
 * @returns {Uint8Array<ArrayBuffer> | null} the 20 bytes, or null when the text is not a recovery key.
 */
export function parseRecoveryKey(text) {
  const clean = text.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
  if (!/^[0-9A-HJKMNP-TV-Z]{32}$/.test(clean)) return null;
  let bits = "";
  for (const c of clean) bits += B32.indexOf(c).toString(2).padStart(5, "0");
  return Uint8Array.from(bits.match(/.{8}/g) ?? [], (b) => parseInt(b, 2));
}

/**
 * @param {BufferSource} raw the practice key's bytes
 * @param {string} recoveryText from newRecoveryKey
 * @returns {Promise<string>} envelope
 */
export async function wrapWithRecoveryKey(raw, recoveryText) {
  const bytes = parseRecoveryKey(recoveryText);
  if (!bytes) throw new Error("not a recovery key");
  const key = await hkdfKey(bytes, INFO.recovery);
  return seal(key, raw, INFO.recovery, ALG.recovery);
}

/**
 * @param {string} envelope from wrapWithRecoveryKey
 * @param {string} recoveryText as typed
 * @returns {Promise<Uint8Array<ArrayBuffer>>} the practice key's bytes
 */
export async function unwrapWithRecoveryKey(envelope, recoveryText) {
  const bytes = parseRecoveryKey(recoveryText);
  if (!bytes) throw new Error("not a recovery key");
  return open(await hkdfKey(bytes, INFO.recovery), envelope, INFO.recovery, ALG.recovery);
}

/** The order n of P-256's base point (SEC 2, § 2.4.2). */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** PKCS#8 of a P-256 private key without the optional public key, up to the 32 bytes of the scalar. */
const P256_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
  0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20,
]);

/**
 * The recovery key pair (docs/e2ee.md, "Key versions and rotation"): an ECDH P-256 pair derived from the
 * printed recovery key, so that every new practice key version can be wrapped to its public key
 * without anyone typing the recovery key. Private scalar d = (OS2IP(HKDF-SHA256(recovery bits,
 * salt empty, info `sprechzimmer/v1/recovery-ecdh`, 48 bytes)) mod (n − 1)) + 1, as FIPS 186-5
 * A.2.1 derives a key from 64 extra bits; the public key is d·G, computed by WebCrypto on import.
 * @param {string} recoveryText as typed
 * @returns {Promise<{privateKey: CryptoKey, publicKey: string}>} the private key not extractable;
 *   the public key as SPKI, base64url
 */
export async function recoveryKeyPair(recoveryText) {
  const bytes = parseRecoveryKey(recoveryText);
  if (!bytes) throw new Error("not a recovery key");
  const base = await subtle.importKey("raw", bytes, "HKDF", false, ["deriveBits"]);
  const okm = new Uint8Array(
    await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: enc.encode(INFO.recoveryEcdh) }, base, 384),
  );
  let value = 0n;
  for (const b of okm) value = (value << 8n) | BigInt(b);
  let d = (value % (P256_ORDER - 1n)) + 1n;
  const pkcs8 = new Uint8Array(P256_PKCS8_PREFIX.length + 32);
  pkcs8.set(P256_PKCS8_PREFIX);
  for (let i = pkcs8.length - 1; i >= P256_PKCS8_PREFIX.length; i--) {
    pkcs8[i] = Number(d & 0xffn);
    d >>= 8n;
  }
  try {
    const full = await subtle.exportKey("jwk", await subtle.importKey("pkcs8", pkcs8, EC, true, ["deriveBits"]));
    if (!full.x || !full.y) throw new Error("no public point");
    /** @type {JsonWebKey} */
    const point = { kty: "EC", crv: "P-256", x: full.x, y: full.y };
    const publicKey = await subtle.importKey("jwk", point, EC, true, []);
    return {
      privateKey: await subtle.importKey("pkcs8", pkcs8, EC, false, ["deriveBits"]),
      publicKey: await exportPublicKey(publicKey),
    };
  } finally {
    pkcs8.fill(0);
    okm.fill(0);
  }
}

/**
 * Opens the practice key the recovery sheet protects: an ECIES wrap to the recovery key pair, or,
 * in a practice from before the recovery key pair, the symmetric wrap of sign-up.
 * @param {string} envelope Organisation.recovery_wrapped_key
 * @param {string} recoveryText as typed
 * @param {string} recoveryPublicKey Organisation.recovery_public_key, "" for the old kind
 * @returns {Promise<Uint8Array<ArrayBuffer>>} the raw practice key of the version the wrap holds
 */
export async function openWithRecovery(envelope, recoveryText, recoveryPublicKey) {
  if (!recoveryPublicKey) return unwrapWithRecoveryKey(envelope, recoveryText);
  const pair = await recoveryKeyPair(recoveryText);
  if (pair.publicKey !== recoveryPublicKey) throw new Error("another recovery key");
  return unwrapFromPublicKey(envelope, pair.privateKey, pair.publicKey);
}

/**
 * Associated data binding a record's ciphertext to its practice and kind.
 * @param {number} organisationId
 * @param {string} kind e.g. "practice-note"
 */
export function recordContext(organisationId, kind) {
  return `sprechzimmer/v1/record/${organisationId}/${kind}`;
}

/**
 * @param {CryptoKey} practiceKey
 * @param {string} context from recordContext
 * @param {unknown} value anything JSON can hold
 * @param {number} [kid] the version of `practiceKey` (docs/e2ee.md, "Key versions")
 * @returns {Promise<string>} envelope
 */
export async function encryptRecord(practiceKey, context, value, kid = 1) {
  return seal(practiceKey, enc.encode(JSON.stringify(value)), context, ALG.record, { kid });
}

/**
 * The practice key version an envelope names; envelopes without one are version 1.
 * @param {string | Envelope} envelope
 * @returns {number}
 */
export function envelopeKid(envelope) {
  /** @type {Envelope} */
  const data = typeof envelope === "string" ? JSON.parse(envelope) : envelope;
  return Number.isInteger(data.kid) && /** @type {number} */ (data.kid) >= 1 ? /** @type {number} */ (data.kid) : 1;
}

/**
 * Associated data of a key version sealed with the next one: the server's keyring chain.
 * @param {number} organisationId
 * @param {number} version the version that is sealed
 */
export function keyringContext(organisationId, version) {
  return `sprechzimmer/v1/keyring/${organisationId}/${version}`;
}

/**
 * Rotation: the previous version's raw key sealed with the new version's key, so whoever holds
 * the new version can still open records sealed before (and nobody who lacks it can).
 * @param {CryptoKey} newKey
 * @param {number} newVersion
 * @param {BufferSource} previousRaw
 * @param {number} organisationId
 * @returns {Promise<string>} envelope
 */
export function wrapPreviousKey(newKey, newVersion, previousRaw, organisationId) {
  return seal(newKey, previousRaw, keyringContext(organisationId, newVersion - 1), ALG.record, { kid: newVersion });
}

/**
 * @param {CryptoKey} key the version that sealed it
 * @param {string} envelope from wrapPreviousKey
 * @param {number} organisationId
 * @param {number} previousVersion
 * @returns {Promise<Uint8Array<ArrayBuffer>>} the previous version's raw key
 */
export function openPreviousKey(key, envelope, organisationId, previousVersion) {
  return open(key, envelope, keyringContext(organisationId, previousVersion), ALG.record);
}

/**
 * @param {CryptoKey} practiceKey
 * @param {string} context the one it was encrypted under
 * @param {string | Envelope} envelope
 * @returns {Promise<any>} the value, as encryptRecord was given it
 */
export async function decryptRecord(practiceKey, context, envelope) {
  return JSON.parse(dec.decode(await open(practiceKey, envelope, context, ALG.record)));
}
