// The logged-in member's keys: unlock the practice key once per login, grant it to colleagues.
import * as e2ee from "./e2ee.js";
import * as keystore from "./keystore.js";
import { getJson, request } from "./api.js";
import { pageMeta } from "./meta.js";

export class KeyringError extends Error {}

function currentUserId() {
  return pageMeta("sz-user");
}

async function privateKey(keys) {
  const cached = await keystore.get("private");
  if (cached && cached.userId === String(keys.user_id)) return cached.key;
  const kek = await keystore.get("kek");
  if (!kek) {
    throw new KeyringError(
      "Ihre Schlüssel sind in diesem Browser nicht entsperrt. Bitte melden Sie sich ab und erneut an.",
    );
  }
  let key;
  try {
    key = await e2ee.unwrapPrivateKey(keys.wrapped_private_key, kek);
  } catch {
    throw new KeyringError("Ihr privater Schlüssel lässt sich nicht entsperren. Bitte melden Sie sich erneut an.");
  }
  await keystore.put("private", { userId: String(keys.user_id), key });
  await keystore.remove("kek");
  return key;
}

/**
 * The practice key for encrypting and decrypting records.
 * @returns {Promise<{key: CryptoKey, organisationId: number}>}
 */
export async function practiceKey() {
  const cached = await keystore.get("practice");
  if (cached && cached.userId === currentUserId()) return cached;
  const keys = await getJson("/api/schluessel/");
  if (!keys.wrapped_practice_key) {
    throw new KeyringError(
      "Sie haben noch keinen Zugriff auf die verschlüsselten Praxisdaten. Ein Kollege Ihrer Praxis muss " +
        "Ihnen den Praxisschlüssel freigeben (Seite „Mitglieder“).",
    );
  }
  const raw = await e2ee.unwrapFromPublicKey(keys.wrapped_practice_key, await privateKey(keys), keys.public_key);
  const entry = { userId: String(keys.user_id), organisationId: keys.organisation_id, key: await e2ee.importPracticeKey(raw) };
  await keystore.put("practice", entry);
  return entry;
}

/** Members waiting for the practice key, each with the fingerprint of their public key. */
export async function pendingGrants() {
  return (await getJson("/api/schluessel/freigaben/")).members;
}

/** Wraps the practice key to one waiting member's public key and stores it on the server. */
export async function grant(member) {
  const keys = await getJson("/api/schluessel/");
  if (!keys.wrapped_practice_key) throw new KeyringError("Sie haben selbst keinen Zugriff auf den Praxisschlüssel.");
  const raw = await e2ee.unwrapFromPublicKey(keys.wrapped_practice_key, await privateKey(keys), keys.public_key);
  const wrapped = await e2ee.wrapToPublicKey(raw, member.public_key);
  raw.fill(0);
  await request("POST", "/api/schluessel/freigaben/", {
    member_id: member.id,
    public_key: member.public_key,
    wrapped_practice_key: wrapped,
  });
}

export const forget = () => keystore.clear();

const PRACTICE_PAIR_CONTEXT = "sprechzimmer/v1/practice-private-key";

/**
 * The practice's own ECDH key pair, made by the first member's browser that needs it: patients
 * encrypt what they type (their name) to its public key; its private key is sealed with the
 * practice key, so only members can read it.
 * @returns {Promise<{publicKey: string, privateKey: CryptoKey}>}
 */
export async function practiceKeyPair() {
  const { key, organisationId } = await practiceKey();
  const context = `${PRACTICE_PAIR_CONTEXT}/${organisationId}`;
  let pair = await getJson("/api/praxis/schluesselpaar/");
  if (!pair.public_key) {
    const fresh = await e2ee.generateKeyPair();
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", fresh.privateKey));
    const body = {
      public_key: await e2ee.exportPublicKey(fresh.publicKey),
      wrapped_private_key: await e2ee.encryptRecord(key, context, { pkcs8: e2ee.b64u(pkcs8) }),
    };
    try {
      await request("POST", "/api/praxis/schluesselpaar/", body);
    } catch (error) {
      if (error.status !== 409) throw error; // a colleague was quicker: use theirs
    }
    pair = await getJson("/api/praxis/schluesselpaar/");
  }
  const { pkcs8 } = await e2ee.decryptRecord(key, context, pair.wrapped_private_key);
  const privateKey = await crypto.subtle.importKey("pkcs8", e2ee.unb64u(pkcs8), { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
  return { publicKey: pair.public_key, privateKey };
}

/** Reads a text a patient encrypted to the practice key pair (e.g. the typed name). */
export async function openFromPatient(envelope, pair) {
  const bytes = await e2ee.unwrapFromPublicKey(envelope, pair.privateKey, pair.publicKey);
  return new TextDecoder().decode(bytes);
}
