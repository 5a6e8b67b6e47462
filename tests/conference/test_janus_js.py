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
