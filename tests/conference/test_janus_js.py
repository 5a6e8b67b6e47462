"""lib/janus.js in Chromium against the real Janus: a participant publishes its (fake) camera with
the tokens Django's access carries, another subscribes with its private id and decodes frames, and
Janus's refusals (expired token, a room token not in the list) arrive as JanusError with Janus's
code. The module is served as written by a plain static server; no page of ours is needed."""

from __future__ import annotations

import functools
import http.server
import secrets
import shutil
import threading
import time
from pathlib import Path

import pytest

from sprechzimmer.conference import janusconf
from sprechzimmer.conference.janus import Janus
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

JS = Path(__file__).resolve().parents[2] / "src" / "sprechzimmer" / "static" / "sprechzimmer" / "js"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The lib/ modules as the instance serves them, beside an empty page to run them in."""
    root = tmp_path_factory.mktemp("site")
    shutil.copytree(JS / "lib", root / "lib")
    (root / "index.html").write_text("<!doctype html><title>janus.js</title>")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def access(janus, room, *, room_token, expiry=None) -> dict:
    """What Django's access endpoint answers (conference/actions.access), for a room made here."""
    expiry = expiry or int(time.time()) + 600
    return {
        "server": janus.ws_url,
        "room": room,
        "id": "p" + secrets.token_hex(6),
        "room_token": room_token,
        "token": janusconf.signed_token(janus.secret, expiry),
        "expires": "",
        "ice_servers": [],
    }


PUBLISH = """async (access) => {
  const janus = await import("/lib/janus.js");
  const session = await janus.JanusSession.open(access);
  const { handle, joined } = await janus.joinRoom(session, access);
  const stream = await navigator.mediaDevices.getUserMedia({ video: true });
  const pc = new RTCPeerConnection({ iceServers: access.ice_servers });
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  // Others can subscribe once Janus has the media (its "webrtcup"; they learn of it by the room's
  // "publishers" event).
  const up = new Promise((resolve) => (handle.onmessage = (m) => m.janus === "webrtcup" && resolve(true)));
  await janus.publish(handle, pc);
  await up;
  window.kept = { session, pc };
  return joined.private_id;
}"""

SUBSCRIBE = """async ([access, feed]) => {
  const janus = await import("/lib/janus.js");
  const session = await janus.JanusSession.open(access);
  const { joined } = await janus.joinRoom(session, access);
  const pc = new RTCPeerConnection({ iceServers: access.ice_servers });
  await janus.subscribe(session, access, joined.private_id, [feed], pc);
  window.kept = { session, pc };
  for (let i = 0; i < 200; i++) {
    for (const stat of (await pc.getStats()).values()) {
      if (stat.type === "inbound-rtp" && stat.kind === "video" && stat.framesDecoded > 0) return stat.framesDecoded;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return 0;
}"""

REFUSED = """async (access) => {
  const janus = await import("/lib/janus.js");
  try {
    const session = await janus.JanusSession.open(access);
    await janus.joinRoom(session, access);
    return "eingelassen";
  } catch (error) {
    return error instanceof janus.JanusError ? error.code : String(error);
  }
}"""


def test_lib_janus_publishes_subscribes_and_reports_refusals(janus_server, chromium, site):
    room, publisher_token, subscriber_token = (secrets.token_urlsafe(12) for _ in range(3))
    with Janus(janus_server.url, janus_server.secret).videoroom() as videoroom:
        videoroom.create(room, publishers=9, tokens=[publisher_token, subscriber_token])
    context = chromium.new_context()
    try:
        pages = []
        for _ in range(4):
            page = context.new_page()
            page.goto(site + "/index.html")
            pages.append(page)
        publisher = access(janus_server, room, room_token=publisher_token)
        assert isinstance(pages[0].evaluate(PUBLISH, publisher), int)
        subscriber = access(janus_server, room, room_token=subscriber_token)
        assert pages[1].evaluate(SUBSCRIBE, [subscriber, publisher["id"]]) > 0

        expired = access(janus_server, room, room_token=subscriber_token, expiry=int(time.time()) - 1)
        assert pages[2].evaluate(REFUSED, expired) == 403
        stranger = access(janus_server, room, room_token="nicht-in-der-liste")
        assert pages[3].evaluate(REFUSED, stranger) == 433
    finally:
        context.close()
        with Janus(janus_server.url, janus_server.secret).videoroom() as videoroom:
            videoroom.destroy(room)


ENCRYPTED_PUBLISH = """async ([access, secret]) => {
  const janus = await import("/lib/janus.js");
  const { FrameCrypto, peerConnectionConfig } = await import("/lib/framecrypto.js");
  const crypto = new FrameCrypto();
  crypto.useGrant({ epoch: 1, sender: 0, secret: new Uint8Array(secret) });
  const session = await janus.JanusSession.open(access);
  const { handle } = await janus.joinRoom(session, access);
  const stream = await navigator.mediaDevices.getUserMedia({ video: true });
  const pc = new RTCPeerConnection({ iceServers: access.ice_servers, ...peerConnectionConfig() });
  for (const track of stream.getTracks()) {
    const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    crypto.encrypt(transceiver.sender);
  }
  const up = new Promise((resolve) => (handle.onmessage = (m) => m.janus === "webrtcup" && resolve(true)));
  await janus.publish(handle, pc);
  await up;
  window.kept = { session, pc, crypto };
}"""

#: Subscribes to `feed` for up to `seconds`: with `secret`, through the frame worker holding that
#: conference key (as a participant's page does); without, as a bare WebRTC client (what anyone with
#: a valid Janus token and room token gets, the SFU's operator included). Answers the video
#: receiver's counters.
LISTEN = """async ([access, feed, secret, seconds]) => {
  const janus = await import("/lib/janus.js");
  const { FrameCrypto, peerConnectionConfig } = await import("/lib/framecrypto.js");
  const crypto = secret ? new FrameCrypto() : null;
  if (crypto) crypto.useGrant({ epoch: 1, sender: 1, secret: new Uint8Array(secret) });
  const session = await janus.JanusSession.open(access);
  const { joined } = await janus.joinRoom(session, access);
  const pc = new RTCPeerConnection({ iceServers: access.ice_servers, ...(crypto ? peerConnectionConfig() : {}) });
  const video = document.createElement("video");
  Object.assign(video, { autoplay: true, muted: true, playsInline: true, width: 320, height: 180 });
  document.body.append(video);
  pc.ontrack = (event) => {
    crypto?.decrypt(event.receiver);
    video.srcObject = new MediaStream([event.track]);
  };
  await janus.subscribe(session, access, joined.private_id, [feed], pc);
  window.kept = { session, pc, crypto };
  // Chromium's fake camera shows a green field (a moving sector and a clock on it): the share of
  // such green in the picture on screen says whether the camera's picture came through.
  const canvas = new OffscreenCanvas(32, 18);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let inbound = {};
  let green = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for (const stat of (await pc.getStats()).values()) if (stat.type === "inbound-rtp" && stat.kind === "video") inbound = stat;
    if (video.readyState >= 2) {
      context.drawImage(video, 0, 0, 32, 18);
      const data = context.getImageData(0, 0, 32, 18).data;
      let count = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 1] > 100 && data[i] < 60 && data[i + 2] < 60) count += 1;
      green = Math.max(green, count / (32 * 18));
    }
    if (crypto && inbound.framesDecoded > 30 && green > 0.5) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { packets: inbound.packetsReceived ?? 0, bytes: inbound.bytesReceived ?? 0, frames: inbound.framesDecoded ?? 0,
           green: Math.round(green * 100) / 100 };
}"""


def test_what_janus_forwards_decodes_only_with_the_conference_key(janus_server, chromium, site):
    """Issue 18: a client that joins the room directly with valid tokens but without the key gets
    the forwarded media (packets and bytes arrive) and never sees the camera's picture in them,
    while a participant holding the key sees it in the same stream."""
    room = secrets.token_urlsafe(12)
    tokens = [secrets.token_urlsafe(12) for _ in range(3)]
    with Janus(janus_server.url, janus_server.secret).videoroom() as videoroom:
        videoroom.create(room, publishers=9, tokens=tokens)
    secret = list(secrets.token_bytes(32))
    context = chromium.new_context()
    try:
        pages = []
        for _ in range(3):
            page = context.new_page()
            page.goto(site + "/index.html")
            pages.append(page)
        publisher = access(janus_server, room, room_token=tokens[0])
        pages[0].evaluate(ENCRYPTED_PUBLISH, [publisher, secret])
        keyed = pages[1].evaluate(
            LISTEN, [access(janus_server, room, room_token=tokens[1]), publisher["id"], secret, 60]
        )
        assert keyed["frames"] > 30 and keyed["green"] > 0.5, keyed  # the camera's picture
        keyless = pages[2].evaluate(
            LISTEN, [access(janus_server, room, room_token=tokens[2]), publisher["id"], None, 10]
        )
        print(f"\nwith the key: {keyed}; without: {keyless}")
        assert keyless["packets"] > 100 and keyless["bytes"] > 20_000, keyless  # the media did arrive
        # VP8 keeps its first bytes in the clear (docs/e2ee.md), so the decoder now and then makes
        # a picture of the ciphertext: noise, in which the camera's picture never shows.
        assert keyless["green"] < 0.1, keyless
    finally:
        context.close()
        with Janus(janus_server.url, janus_server.secret).videoroom() as videoroom:
            videoroom.destroy(room)
