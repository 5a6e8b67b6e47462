// @ts-check
// The proof of work the server asks for while access codes are being guessed at scale
// (sprechzimmer/proofofwork.py, docs/signalling.md): find a nonce such that
// SHA-256(challenge ":" nonce) starts with `bits` zero bits. WebCrypto, in batches.

import { ApiError, request } from "./api.js";

const BATCH = 256;

/** @param {Uint8Array} digest */
function leadingZeroBits(digest) {
  let bits = 0;
  for (const byte of digest) {
    if (byte) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}

/**
 * @param {string} challenge as the server sent it
 * @param {number} bits required leading zero bits
 * @returns {Promise<string>} the nonce
 */
export async function solve(challenge, bits) {
  const encoder = new TextEncoder();
  for (let start = 0; ; start += BATCH) {
    const tries = [];
    for (let nonce = start; nonce < start + BATCH; nonce++) {
      tries.push(crypto.subtle.digest("SHA-256", encoder.encode(`${challenge}:${nonce}`)));
    }
    const digests = await Promise.all(tries);
    const found = digests.findIndex((digest) => leadingZeroBits(new Uint8Array(digest)) >= bits);
    if (found >= 0) return String(start + found);
  }
}

/**
 * POSTs `body` to `url`; when the server answers 429 with a challenge, solves it and sends the same
 * body again with the proof. The one way every public form (code entry, guest code, booking) does it.
 * @template T
 * @param {string} url
 * @param {Record<string, unknown>} body
 * @param {() => void} [onSolving] called before the (possibly noticeable) solving starts
 * @returns {Promise<T>}
 */
export async function postWithProof(url, body, onSolving) {
  try {
    return await request("POST", url, body);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 429 || !error.body?.challenge) throw error;
    onSolving?.();
    const nonce = await solve(error.body.challenge, error.body.bits);
    return request("POST", url, { ...body, proof: { challenge: error.body.challenge, nonce } });
  }
}
