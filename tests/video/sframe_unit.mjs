// Unit tests of the conference frame encryption (lib/sframe.js) and its key distribution
// (lib/confkeys.js) in Node's test runner, on Node's WebCrypto. tests/video/test_sframe.py runs it
// on a copy of lib/ marked as ES modules (SFRAME_LIB), which any Node from 18 on loads.
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

// Node 18 has WebCrypto only as a module, not yet as the global the browser modules use
if (!globalThis.crypto) Object.defineProperty(globalThis, "crypto", { value: webcrypto });
const LIB = process.env.SFRAME_LIB
  ? pathToFileURL(process.env.SFRAME_LIB + "/")
  : new URL("../../src/sprechzimmer/static/sprechzimmer/js/lib/", import.meta.url);
const sf = await import(new URL("sframe.js", LIB).href);
const ck = await import(new URL("confkeys.js", LIB).href);

const bytes = (n, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const secret = (seed) => bytes(32, seed);
const hex = (b) => Buffer.from(b).toString("hex");

test("header: short form below 8, minimal big-endian bytes above, round trip up to 2^53 - 1", () => {
  assert.equal(hex(sf.encodeHeader(0, 0)), "00");
  assert.equal(hex(sf.encodeHeader(7, 5)), "75");
  assert.equal(hex(sf.encodeHeader(8, 0)), "8008");
  assert.equal(hex(sf.encodeHeader(3, 256)), "390100");
  assert.equal(hex(sf.encodeHeader(0x1ff, 0xaaaa)), "9901ffaaaa");
  for (const kid of [0, 7, 8, 255, 256, 65535, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    for (const ctr of [0, 1, 7, 8, 255, 256, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
      const header = sf.encodeHeader(kid, ctr);
      assert.deepEqual(sf.decodeHeader(header), { kid, ctr, length: header.length });
    }
  }
  assert.equal(sf.decodeHeader(sf.encodeHeader(300, 70000).subarray(0, 4)), null);
  assert.equal(sf.decodeHeader(new Uint8Array(0)), null);
  assert.equal(sf.decodeHeader(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), null);
  assert.throws(() => sf.encodeHeader(-1, 0), RangeError);
  assert.throws(() => sf.encodeHeader(1, 2 ** 53), RangeError);
});

test("clear bytes: VP8 key frame 10, delta 3, audio and other codecs none", () => {
  assert.equal(sf.clearBytes("video", "key", "video/VP8"), 10);
  assert.equal(sf.clearBytes("video", "delta", undefined), 3);
  assert.equal(sf.clearBytes("video", "key", "video/H264"), 0);
  assert.equal(sf.clearBytes("audio", undefined, "audio/opus"), 0);
});

async function senderKey(epochSecret, epoch, sender) {
  const kid = sf.conferenceKid(epoch, sender);
  return sf.deriveFrameKey(await sf.senderBaseKey(epochSecret, kid), kid);
}

test("round trip: clear prefix as is, header after it, the rest sealed", async () => {
  const key = await senderKey(secret(1), 1, 2);
  for (const clear of [0, 3, 10]) {
    const payload = bytes(5000, clear);
    const sealed = await sf.encryptFrame(key, 9, payload, clear);
    const header = sf.encodeHeader(key.kid, 9);
    assert.equal(sealed.length, clear + header.length + payload.length - clear + 16);
    assert.deepEqual(sealed.subarray(0, clear), payload.subarray(0, clear));
    assert.deepEqual(sealed.subarray(clear, clear + header.length), header);
    assert.notDeepEqual(sealed.subarray(clear + header.length, clear + header.length + 64), payload.subarray(clear, clear + 64));
    const opened = await sf.decryptFrame(() => key, sealed, clear);
    assert.equal(opened.ok, true);
    assert.equal(opened.kid, key.kid);
    assert.equal(opened.ctr, 9);
    assert.deepEqual(opened.payload, payload);
  }
  // a frame shorter than the clear prefix (an empty one) still round-trips
  const tiny = await sf.encryptFrame(key, 10, bytes(2), 0);
  assert.deepEqual((await sf.decryptFrame(() => key, tiny, 0)).payload, bytes(2));
});

test("tampering anywhere (clear prefix, header, ciphertext, tag) is refused", async () => {
  const key = await senderKey(secret(1), 1, 2);
  const payload = bytes(1200);
  const sealed = await sf.encryptFrame(key, 1000, payload, 10);
  const headerLength = sf.encodeHeader(key.kid, 1000).length;
  for (const at of [0, 9, 10 + headerLength - 1, 10 + headerLength, 600, sealed.length - 1]) {
    const bad = sealed.slice();
    bad[at] ^= 0x01;
    const opened = await sf.decryptFrame(() => key, bad, 10);
    assert.equal(opened.ok, false, `flipped byte ${at}`);
    assert.equal(opened.reason, "auth", `flipped byte ${at}`);
  }
  const truncated = await sf.decryptFrame(() => key, sealed.subarray(0, 10 + headerLength + 15), 10);
  assert.deepEqual(truncated, { ok: false, reason: "malformed" });
  assert.deepEqual(await sf.decryptFrame(() => key, new Uint8Array(0), 3), { ok: false, reason: "malformed" });
});

test("wrong key: same key id under another conference key fails its tag; unknown key id is named", async () => {
  const right = await senderKey(secret(1), 1, 2);
  const wrong = await senderKey(secret(2), 1, 2);
  const sealed = await sf.encryptFrame(right, 0, bytes(300), 3);
  assert.deepEqual(await sf.decryptFrame(() => wrong, sealed, 3), { ok: false, reason: "auth", kid: right.kid });
  assert.deepEqual(await sf.decryptFrame(() => undefined, sealed, 3), { ok: false, reason: "unknown-kid", kid: right.kid });
  // another sender of the same epoch has another key
  const other = await senderKey(secret(1), 1, 3);
  assert.notEqual(hex(other.salt), hex(right.salt));
  assert.equal((await sf.decryptFrame(() => ({ ...other, kid: right.kid }), sealed, 3)).reason, "auth");
});

test("key ids: epoch and sender in one number, per-sender keys differ", () => {
  assert.equal(sf.conferenceKid(1, 0), 16);
  assert.deepEqual(sf.splitKid(sf.conferenceKid(12345, 9)), { epoch: 12345, sender: 9 });
  assert.throws(() => sf.conferenceKid(1, sf.MAX_SENDERS), RangeError);
});

test("key ring: a change of key id keeps the old key for frames in flight, then drops it", async () => {
  const alice = new sf.KeyRing();
  const bob = new sf.KeyRing();
  assert.equal(await alice.encrypt(bytes(50), 3), null, "no key yet: nothing leaves");
  for (const ring of [alice, bob]) ring.addEpoch(1, secret(1));
  alice.sendWith(1, 1);
  const old = await alice.encrypt(bytes(50, 1), 3);
  for (const ring of [alice, bob]) ring.addEpoch(2, secret(2));
  alice.sendWith(2, 1);
  const fresh = await alice.encrypt(bytes(50, 2), 3);
  assert.equal(sf.decodeHeader(fresh, 3).kid, sf.conferenceKid(2, 1));
  assert.equal(sf.decodeHeader(fresh, 3).ctr, 0, "a new key id starts at counter 0");
  assert.deepEqual((await bob.decrypt(old, 3)).payload, bytes(50, 1));
  assert.deepEqual((await bob.decrypt(fresh, 3)).payload, bytes(50, 2));
  bob.removeEpoch(1);
  assert.deepEqual(await bob.decrypt(old, 3), { ok: false, reason: "unknown-kid", kid: sf.conferenceKid(1, 1) });
  // only the last KEEP_EPOCHS are held
  for (let epoch = 3; epoch < 3 + sf.KEEP_EPOCHS; epoch++) bob.addEpoch(epoch, secret(epoch));
  assert.deepEqual([...bob.epochs.keys()].sort(), [3, 4, 5]);
  assert.equal((await bob.decrypt(fresh, 3)).reason, "unknown-kid");
  // an unknown key id never throws, however many arrive
  for (let i = 0; i < 50; i++) assert.equal((await bob.decrypt(await alice.encrypt(bytes(20), 0), 0)).ok, false);
});

test("counters and nonces never repeat under one key id, not even concurrently or going back", async () => {
  const ring = new sf.KeyRing();
  ring.addEpoch(1, secret(1));
  ring.addEpoch(2, secret(2));
  ring.sendWith(1, 4);
  const first = await Promise.all(Array.from({ length: 500 }, () => ring.encrypt(bytes(40), 0)));
  ring.sendWith(2, 4);
  await ring.encrypt(bytes(40), 0);
  ring.sendWith(1, 4);
  ring.addEpoch(1, secret(1)); // the same grant again
  const later = await Promise.all(Array.from({ length: 10 }, () => ring.encrypt(bytes(40), 0)));
  const counters = [...first, ...later].map((frame) => sf.decodeHeader(frame).ctr);
  assert.equal(new Set(counters).size, counters.length);
  assert.deepEqual(counters.slice(0, 3), [0, 1, 2]);
  const key = await ring.keyFor(sf.conferenceKid(1, 4));
  const nonces = counters.map((ctr) => hex(sf.frameNonce(key.salt, ctr)));
  assert.equal(new Set(nonces).size, nonces.length);
  // the same plaintext never gives the same ciphertext
  assert.equal(new Set([...first, ...later].map(hex)).size, counters.length);
});

test("known answer: python's cryptography computes the same frame (tests/video/test_sframe.py)", async () => {
  const base = bytes(64, 7);
  const key = await sf.deriveFrameKey(base, 0x1234);
  const frame = await sf.encryptFrame(key, 0x0506, bytes(40, 3), 10);
  console.log(`KAT ${hex(base)} ${hex(key.salt)} ${hex(frame)}`);
});

test("grants: each admitted participant opens theirs, nobody else's; a leave gives a new epoch", async () => {
  const doctor = new ck.ConferenceKeys("conf-42");
  await doctor.rotate();
  const patient = await ck.newCallKey();
  const interpreter = await ck.newCallKey();
  const sealedP = await doctor.admit("p", patient.publicKey);
  const sealedI = await doctor.admit("i", interpreter.publicKey);
  assert.doesNotMatch(sealedP, new RegExp(Buffer.from(doctor.secret).toString("base64url")));
  const grantP = await ck.openGrant(sealedP, patient, "conf-42");
  const grantI = await ck.openGrant(sealedI, interpreter, "conf-42");
  assert.deepEqual([grantP.epoch, grantP.sender, grantI.sender, doctor.own().sender], [1, 1, 2, 0]);
  assert.deepEqual(grantP.secret, doctor.secret);
  await assert.rejects(ck.openGrant(sealedP, interpreter, "conf-42"), "sealed to the patient only");
  await assert.rejects(ck.openGrant(sealedP, patient, "conf-43"), /another conference/);
  await assert.rejects(doctor.admit("p", patient.publicKey), /already/);
  assert.equal(await ck.keyCode(grantP.secret), await ck.keyCode(doctor.secret));
  assert.match(await ck.keyCode(grantP.secret), /^\d{4} \d{4} \d{4}$/);

  const envelopes = await doctor.leave("i");
  assert.deepEqual([...envelopes.keys()], ["p"]);
  const next = await ck.openGrant(envelopes.get("p"), patient, "conf-42");
  assert.equal(next.epoch, 2);
  assert.equal(next.sender, 1);
  assert.notDeepEqual(next.secret, grantI.secret, "the leaver's key does not open the new epoch");
  await assert.rejects(ck.openGrant(envelopes.get("p"), interpreter, "conf-42"));
  // the freed index goes to the next one admitted, in the new epoch
  const relative = await ck.newCallKey();
  assert.equal((await ck.openGrant(await doctor.admit("r", relative.publicKey), relative, "conf-42")).sender, 2);
});

test("grants carry the names of those in the conference, sealed: not readable in the envelope", async () => {
  const doctor = new ck.ConferenceKeys("conf-42");
  await doctor.rotate();
  const patient = await ck.newCallKey();
  doctor.names = { "pub-p": "Konrad Konferenz", "pub-i": "Ayşe Dolmetsch-Yılmaz", "pub-x": "x".repeat(200) };
  const sealed = await doctor.admit("p", patient.publicKey);
  // whole words: two letters such as "Ay" occur in random base64url by chance (one run in seven)
  assert.doesNotMatch(sealed, /Konrad|Dolmetsch|Ayşe/);
  const grant = await ck.openGrant(sealed, patient, "conf-42");
  assert.equal(grant.names["pub-i"], "Ayşe Dolmetsch-Yılmaz");
  assert.equal(grant.names["pub-p"], "Konrad Konferenz");
  assert.equal(grant.names["pub-x"].length, ck.MAX_NAME, "a long name is cut, not refused");
  // a grant without names (an older page) opens with none
  const bare = await ck.sealGrant({ ...doctor.own(), sender: 1 }, patient.publicKey);
  assert.deepEqual((await ck.openGrant(bare, patient, "conf-42")).names, {});
});
