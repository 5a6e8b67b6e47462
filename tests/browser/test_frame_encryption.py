"""Conference frame encryption (issue 18) in real Chromium: two RTCPeerConnections in a page of the
product (its CSP, its static files), each end with the frame worker of lib/framecrypto.js; the sender
encrypts camera and microphone frames, the receiver decrypts them. With the key the doctor's browser
granted, the receiver decodes video; with another key for the same key id it decodes nothing and
counts every refused frame; after a new epoch granted to both it decodes again under the new key id.
A shared screen replacing the camera goes through the same worker.
The keys travel as the page code will send them: sealed to the receiver's call key (confkeys.js)."""

import time

import pytest

pytestmark = pytest.mark.browser

LIB = "/static/sprechzimmer/js/lib/"

# Sets up sender and receiver in the page; window.sframeTest holds them for the steps below.
SETUP = """async (lib) => {
  const fc = await import(lib + "framecrypto.js");
  const ck = await import(lib + "confkeys.js");
  const sf = await import(lib + "sframe.js");
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: true, video: { width: 1280, height: 720, frameRate: 30 },
  });
  const sendCrypto = new fc.FrameCrypto();
  const receiveCrypto = new fc.FrameCrypto();
  const sender = new RTCPeerConnection(fc.peerConnectionConfig());
  const receiver = new RTCPeerConnection(fc.peerConnectionConfig());
  sender.onicecandidate = (e) => e.candidate && receiver.addIceCandidate(e.candidate);
  receiver.onicecandidate = (e) => e.candidate && sender.addIceCandidate(e.candidate);
  receiver.ontrack = (e) => receiveCrypto.decrypt(e.receiver);
  for (const track of stream.getTracks()) {
    const transceiver = sender.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    sendCrypto.encrypt(transceiver.sender);
    if (track.kind === "video") {
      const codecs = RTCRtpReceiver.getCapabilities("video").codecs;
      transceiver.setCodecPreferences(codecs.filter((c) => c.mimeType === "video/VP8"));
    }
  }
  await sender.setLocalDescription();
  await receiver.setRemoteDescription(sender.localDescription);
  await receiver.setLocalDescription();
  await sender.setRemoteDescription(receiver.localDescription);
  const doctor = new ck.ConferenceKeys("conference-7");
  await doctor.rotate();
  const callKey = await ck.newCallKey();
  window.sframeTest = { fc, ck, sf, sender, receiver, sendCrypto, receiveCrypto, doctor, callKey };
  return { scriptTransform: typeof RTCRtpScriptTransform === "function" };
}"""

# The receiver's inbound video and both workers' counts.
STATS = """async () => {
  const t = window.sframeTest;
  const report = await t.receiver.getStats();
  const video = [...report.values()].find((r) => r.type === "inbound-rtp" && r.kind === "video");
  return {
    framesDecoded: video?.framesDecoded ?? 0,
    width: video?.frameWidth,
    height: video?.frameHeight,
    codec: video ? report.get(video.codecId)?.mimeType : undefined,
    send: await t.sendCrypto.stats(),
    receive: await t.receiveCrypto.stats(),
  };
}"""


def wait(page, until, what: str, limit_s: float = 30) -> dict:
    """The counts once `until` holds for them; polls (the bound only ends a test that failed)."""
    deadline = time.monotonic() + limit_s
    while True:
        stats = page.evaluate(STATS)
        if until(stats):
            return stats
        assert time.monotonic() < deadline, f"not reached: {what}: {stats}"
        page.wait_for_timeout(200)


def test_receiver_decodes_with_the_granted_key_not_with_another_and_again_after_a_rekey(new_page):
    page = new_page()
    page.goto("/")
    assert page.evaluate(SETUP, LIB) == {"scriptTransform": True}

    # A receiver with a different conference key under the same key id (epoch 1).
    page.evaluate("""async () => {
      const t = window.sframeTest;
      t.sendCrypto.useGrant(t.doctor.own());
      const impostor = new t.ck.ConferenceKeys("conference-7");
      await impostor.rotate();
      const grant = await t.ck.openGrant(await impostor.admit("p", t.callKey.publicKey), t.callKey, "conference-7");
      t.receiveCrypto.useGrant(grant);
    }""")
    refused = wait(page, lambda s: s["receive"]["authFailed"] >= 60 and s["send"]["encrypted"] >= 60, "refused")
    assert refused["framesDecoded"] == 0, refused
    assert refused["receive"]["decrypted"] == 0, refused

    # The doctor's browser admits the receiver properly and rekeys (someone left): epoch 2 for both.
    page.evaluate("""async () => {
      const t = window.sframeTest;
      await t.doctor.admit("p", t.callKey.publicKey);
      const envelopes = await t.doctor.leave("someone-else");
      const grant = await t.ck.openGrant(envelopes.get("p"), t.callKey, "conference-7");
      t.receiveCrypto.useGrant(grant);
      t.sendCrypto.useGrant(t.doctor.own());
    }""")
    kid = page.evaluate("() => window.sframeTest.sf.conferenceKid(2, 0)")
    decoded = wait(page, lambda s: s["framesDecoded"] >= 30 and s["receive"]["lastKid"] == kid, "decoded")
    assert decoded["codec"] == "video/VP8", decoded
    assert decoded["send"]["sendKid"] == kid
    assert decoded["receive"]["malformed"] == 0, decoded["receive"]

    # Audio and video open under the new key without a single failure from here on.
    before = decoded["receive"]
    after = wait(page, lambda s: s["receive"]["decrypted"] >= before["decrypted"] + 200, "more")
    assert after["receive"]["authFailed"] == before["authFailed"], after
    assert after["receive"]["unknownKid"] == before["unknownKid"], after
    assert after["receive"]["errors"] == 0 and after["send"]["errors"] == 0, after
    assert not page.errors, page.errors


@pytest.mark.parametrize("api", ["RTCRtpScriptTransform", "createEncodedStreams"])
def test_same_key_from_the_start_decodes_camera_and_screen_and_another_epoch_is_dropped(new_page, api):
    """Also through the older createEncodedStreams, which browsers without RTCRtpScriptTransform
    have (here the page hides the newer API before the modules look for it)."""
    page = new_page()
    page.goto("/")
    if api == "createEncodedStreams":
        page.evaluate("() => { delete window.RTCRtpScriptTransform; }")
    assert page.evaluate(SETUP, LIB) == {"scriptTransform": api == "RTCRtpScriptTransform"}
    page.evaluate("""async () => {
      const t = window.sframeTest;
      const grant = await t.ck.openGrant(await t.doctor.admit("p", t.callKey.publicKey), t.callKey, "conference-7");
      t.receiveCrypto.useGrant(grant);
      t.sendCrypto.useGrant(t.doctor.own());
    }""")
    first = wait(page, lambda s: s["framesDecoded"] >= 30, "decoded")
    assert first["receive"]["authFailed"] == 0 and first["receive"]["unknownKid"] == 0, first

    # Screen sharing replaces the camera on the same sender: its frames go through the same worker.
    size = page.evaluate("""async () => {
      const t = window.sframeTest;
      const screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
      const sender = t.sender.getSenders().find((s) => s.track?.kind === "video");
      await sender.replaceTrack(screen.getVideoTracks()[0]);
      const { width, height } = screen.getVideoTracks()[0].getSettings();
      return [width, height];
    }""")
    shared = wait(
        page,
        lambda s: [s["width"], s["height"]] == size and s["framesDecoded"] >= first["framesDecoded"] + 30,
        "screen",
    )
    assert shared["receive"]["authFailed"] == 0 and shared["receive"]["unknownKid"] == 0, shared

    # The sender moves to epoch 2 the receiver was never given: frames are dropped as unknown key id.
    page.evaluate("""async () => {
      const t = window.sframeTest;
      await t.doctor.rotate();
      t.sendCrypto.useGrant(t.doctor.own());
    }""")
    unknown = wait(page, lambda s: s["receive"]["unknownKid"] >= 60, "unknown")
    assert unknown["receive"]["authFailed"] == 0, unknown
    assert page.evaluate("() => window.sframeTest.sender.connectionState") == "connected"
    assert not page.errors, page.errors
