// @ts-check
// Key distribution for conferences (docs/e2ee.md, "Conferences: frame encryption (SFrame)"): the
// doctor's browser makes each epoch's conference key and seals it, with the participant's sender
// index, to the ephemeral ECDH P-256 key the participant's browser made for this call (ECIES of
// lib/e2ee.js: HKDF-SHA256, AES-256-GCM). A new epoch (new key, new key ids) whenever someone
// leaves. Pure WebCrypto: the page sends the envelopes over the signalling channel.

import { b64u, exportPublicKey, generateKeyPair, unb64u, unwrapFromPublicKey, wrapToPublicKey } from "./e2ee.js";
import { MAX_SENDERS } from "./sframe.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * What a participant receives: the epoch's conference key and the sender index it sends as.
 * @typedef {object} Grant
 * @property {string} conference the conference's id, as the page knows it (bound into the envelope)
 * @property {number} epoch
 * @property {number} sender
 * @property {Uint8Array<ArrayBuffer>} secret 32 bytes
 * @property {Record<string, string>} [names] display names by Janus participant id, decrypted in the
 *   doctor's browser: inside the envelope, so neither the server nor Janus learns them
 */

/** At most this long a name travels in a grant (the envelope has to stay below the relay's limit). */
export const MAX_NAME = 80;

/**
 * A participant's ephemeral key pair for one call: the private key stays in this page's memory,
 * the public key (SPKI, base64url) goes to the doctor through the signalling channel.
 * @returns {Promise<{keyPair: CryptoKeyPair, publicKey: string}>}
 */
export async function newCallKey() {
  const keyPair = await generateKeyPair();
  return { keyPair, publicKey: await exportPublicKey(keyPair.publicKey) };
}

/**
 * @param {Grant} grant
 * @param {string} recipientPublicKey SPKI base64url, from newCallKey
 * @returns {Promise<string>} envelope (JSON text, e2ee.js format)
 */
export function sealGrant(grant, recipientPublicKey) {
  /** @type {Record<string, unknown>} */
  const body = { v: 1, conference: grant.conference, epoch: grant.epoch, sender: grant.sender, key: b64u(grant.secret) };
  if (grant.names) body.names = grant.names;
  return wrapToPublicKey(enc.encode(JSON.stringify(body)), recipientPublicKey);
}

/**
 * @param {string} envelope from sealGrant
 * @param {{keyPair: CryptoKeyPair, publicKey: string}} callKey ours, from newCallKey
 * @param {string} conference the conference this page is in: a grant for another is refused
 * @returns {Promise<Grant>} throws when the envelope was not sealed to us or is not a grant for it
 */
export async function openGrant(envelope, callKey, conference) {
  const body = JSON.parse(dec.decode(await unwrapFromPublicKey(envelope, callKey.keyPair.privateKey, callKey.publicKey)));
  const { epoch, sender } = body;
  if (body.v !== 1 || body.conference !== conference) throw new Error("grant for another conference");
  if (!Number.isSafeInteger(epoch) || epoch < 1 || !Number.isInteger(sender) || sender < 0 || sender >= MAX_SENDERS) {
    throw new Error("malformed grant");
  }
  const secret = unb64u(body.key);
  if (secret.length !== 32) throw new Error("malformed grant");
  /** @type {Record<string, string>} */
  const names = {};
  if (body.names && typeof body.names === "object") {
    for (const [id, name] of Object.entries(body.names).slice(0, MAX_SENDERS)) {
      if (typeof name === "string" && name) names[id] = name.slice(0, MAX_NAME);
    }
  }
  return { conference, epoch, sender, secret, names };
}

/**
 * A short code from the epoch's key that everyone in the call can read aloud and compare: equal
 * codes mean nobody (not even the server that carried the envelopes) gave a participant another key.
 * @param {Uint8Array<ArrayBuffer>} secret
 * @returns {Promise<string>} e.g. "4821 0937 5512"
 */
export async function keyCode(secret) {
  const digest = new Uint8Array(
    await globalThis.crypto.subtle.digest("SHA-256", new Uint8Array([...enc.encode("sprechzimmer/v1/sframe/code"), ...secret])),
  );
  const groups = [];
  for (let i = 0; i < 3; i++) {
    const value = ((/** @type {number} */ (digest[2 * i]) << 8) | /** @type {number} */ (digest[2 * i + 1])) % 10000;
    groups.push(String(value).padStart(4, "0"));
  }
  return groups.join(" ");
}

/**
 * The doctor's side: who holds which sender index, the current epoch and its key. Sender 0 is the
 * doctor. Every method returns the envelopes to send; nothing here talks to the network.
 */
export class ConferenceKeys {
  /** @param {string} conference */
  constructor(conference) {
    this.conference = conference;
    this.epoch = 0;
    /** @type {Uint8Array<ArrayBuffer>} */
    this.secret = new Uint8Array(0);
    /** @type {Map<string, {sender: number, publicKey: string}>} participant id -> index, call key */
    this.members = new Map();
    /** @type {Record<string, string>} names sealed into every grant (Janus id -> name) */
    this.names = {};
  }

  /** @returns {Grant} the doctor's own (sender 0) */
  own() {
    if (!this.epoch) throw new Error("no conference key yet: call rotate() first");
    return { conference: this.conference, epoch: this.epoch, sender: 0, secret: this.secret };
  }

  /**
   * A new epoch: a fresh random key, sealed to every participant still in the conference.
   * @returns {Promise<Map<string, string>>} participant id -> envelope
   */
  async rotate() {
    this.epoch += 1;
    this.secret = globalThis.crypto.getRandomValues(new Uint8Array(32));
    /** @type {Map<string, string>} */
    const envelopes = new Map();
    for (const [id, member] of this.members) envelopes.set(id, await this.sealFor(member));
    return envelopes;
  }

  /**
   * The doctor admitted a participant: they get the current key and a sender index of their own.
   * @param {string} id participant id as the signalling channel names them
   * @param {string} publicKey their call key (SPKI base64url)
   * @returns {Promise<string>} envelope for them
   */
  async admit(id, publicKey) {
    if (!this.epoch) throw new Error("no conference key yet: call rotate() first");
    if (this.members.has(id)) throw new Error(`${id} is already in the conference`);
    const used = new Set([0, ...[...this.members.values()].map((m) => m.sender)]);
    let sender = 1;
    while (used.has(sender)) sender++;
    if (sender >= MAX_SENDERS) throw new Error("conference is full");
    const member = { sender, publicKey };
    this.members.set(id, member);
    return this.sealFor(member);
  }

  /**
   * A participant left (or was removed, or reloaded): a new epoch for everyone else, so what is
   * sent from now on is closed to them.
   * @param {string} id
   * @returns {Promise<Map<string, string>>} envelopes for those who stay
   */
  async leave(id) {
    this.members.delete(id);
    return this.rotate();
  }

  /** @param {{sender: number, publicKey: string}} member */
  sealFor(member) {
    return sealGrant({ ...this.own(), sender: member.sender, names: this.names }, member.publicKey);
  }
}
