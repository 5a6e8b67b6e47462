"""Janus's cost of forwarding in a conference (issue 18): CPU and memory of the Janus process per
forwarded stream with 4, 8 and 12 participants, each publishing one video stream and receiving
everyone else's, as the project configures Janus (conference/janusconf.py, tokens, require_e2ee).

    .venv/bin/python bench/janus_forwarding.py [--sizes 4,8,12] [--seconds 20]

Needs Debian's janus. Starts its own Janus on loopback. The participants are aiortc peers in this
process sending small frames (160×120, about 30 per second), so what is measured is Janus's work per
packet, not a codec's: CPU is Janus's own process time (/proc/<pid>/stat, not wall time, so other
load on the machine does not inflate it) per forwarded packet and per forwarded stream; packets are
counted from the publishers' own send statistics times the subscribers of each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

# The test helpers below import Django's models; settings only, no database is touched.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sprechzimmer.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp())
import django  # noqa: E402

django.setup()

from procstat import cpu_seconds, memory_kb  # noqa: E402

from sprechzimmer.conference import janusconf  # noqa: E402
from sprechzimmer.conference.janus import Janus  # noqa: E402
from sprechzimmer.core.formats import number, share  # noqa: E402
from tests.browser.conftest import free_port  # noqa: E402
from tests.conference.conftest import Browser, JanusServer, post  # noqa: E402


def small_track():
    import av
    from aiortc import VideoStreamTrack

    class Small(VideoStreamTrack):
        async def recv(self):
            pts, time_base = await self.next_timestamp()
            frame = av.VideoFrame(width=160, height=120, format="yuv420p")
            for plane in frame.planes:
                plane.update(bytes([secrets.randbelow(256)]) * plane.buffer_size)
            frame.pts, frame.time_base = pts, time_base or Fraction(1, 90000)
            return frame

    return Small()


def start_janus(folder: Path) -> JanusServer:
    config = janusconf.JanusConfig(
        secret=secrets.token_urlsafe(32),
        http_port=free_port(),
        admin_port=free_port(),
        ws_port=free_port(),
        rtp_ports=(46000, 47999),
        ice_enforce=["127.0.0.1"],
        debug_level=2,
    )
    janusconf.write(config, folder)
    log = open(folder / "janus.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(janusconf.command(folder), stdout=log, stderr=subprocess.STDOUT)
    server = JanusServer(
        url=f"http://127.0.0.1:{config.http_port}/janus",
        admin_url=f"http://127.0.0.1:{config.admin_port}/admin",
        ws_url="",
        secret=config.secret,
        process=process,
    )
    for _ in range(100):
        try:
            post(server.url, {"janus": "info", "transaction": "t"})
            return server
        except OSError:
            time.sleep(0.2)
    raise SystemExit("Janus did not start: " + (folder / "janus.log").read_text())


async def in_thread(function, *args):
    return await asyncio.to_thread(function, *args)


async def conference(server: JanusServer, size: int, seconds: float) -> dict:
    from aiortc import RTCPeerConnection, RTCSessionDescription

    room, room_token = secrets.token_urlsafe(12), secrets.token_urlsafe(24)
    token = janusconf.signed_token(server.secret, int(time.time()) + 3600)
    with Janus(server.url, server.secret).videoroom() as videoroom:
        videoroom.create(room, publishers=max(size, 9), tokens=[room_token])
    base_rss = memory_kb(server.process.pid) / 1024
    peers, publishers, browsers = [], [], []
    joined = {}
    for i in range(size):
        browser = Browser(server, token)
        await in_thread(browser.attach)
        browsers.append(browser)
        joined[i] = await in_thread(lambda b=browser, i=i: b.join(room, id=f"p{i}", room_token=room_token))
        peer = RTCPeerConnection()
        peer.addTrack(small_track())
        await peer.setLocalDescription(await peer.createOffer())
        jsep = {"type": "offer", "sdp": peer.localDescription.sdp, "e2ee": True}
        body = {"request": "configure", "audio": False, "video": True}
        await in_thread(browser.event, body, jsep)
        await peer.setRemoteDescription(RTCSessionDescription(sdp=browser.jsep["sdp"], type="answer"))
        await in_thread(browser.poll, lambda a: a.get("janus") == "webrtcup")
        peers.append(peer)
        publishers.append(peer)
    for i in range(size):
        browser = Browser(server, token)
        await in_thread(browser.attach)
        browsers.append(browser)
        streams = [{"feed": f"p{j}"} for j in range(size) if j != i]
        body = {"request": "join", "ptype": "subscriber", "room": room, "streams": streams}
        await in_thread(browser.event, body | {"private_id": joined[i]["private_id"]})
        peer = RTCPeerConnection()
        await peer.setRemoteDescription(RTCSessionDescription(sdp=browser.jsep["sdp"], type="offer"))
        await peer.setLocalDescription(await peer.createAnswer())
        answer = {"type": "answer", "sdp": peer.localDescription.sdp}
        await in_thread(browser.event, {"request": "start"}, answer)
        await in_thread(browser.poll, lambda a: a.get("janus") == "webrtcup")
        peers.append(peer)

    async def packets_sent() -> int:
        total = 0
        for peer in publishers:
            for stat in (await peer.getStats()).values():
                if stat.type == "outbound-rtp":
                    total += stat.packetsSent
        return total

    await asyncio.sleep(3)  # past the first keyframes
    pid = server.process.pid
    cpu0, sent0, wall0 = cpu_seconds(pid), await packets_sent(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu1, sent1, wall1 = cpu_seconds(pid), await packets_sent(), time.monotonic()
    rss = memory_kb(pid) / 1024
    for peer in peers:
        await peer.close()
    for browser in browsers:
        await in_thread(browser.close)
    with Janus(server.url, server.secret).videoroom() as videoroom:
        videoroom.destroy(room)
    streams = size * (size - 1)
    forwarded = (sent1 - sent0) * (size - 1)
    cpu = cpu1 - cpu0
    wall = wall1 - wall0
    return {
        "size": size,
        "streams": streams,
        "cpu_share": cpu / wall,
        "cpu_ms_per_stream_second": 1000 * cpu / wall / streams,
        "cpu_us_per_packet": 1e6 * cpu / max(forwarded, 1),
        "packets_per_second": forwarded / wall,
        "rss_mb": rss,
        "rss_kb_per_stream": 1024 * (rss - base_rss) / streams,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4,8,12")
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = start_janus(Path(folder))
        try:
            print(
                "participants  streams  Janus CPU  CPU ms/s per stream  µs per packet  packets/s  RSS MB  KB per stream"
            )
            for size in (int(s) for s in args.sizes.split(",")):
                r = asyncio.run(conference(server, size, args.seconds))
                print(
                    f"{number(r['size']):>12}  {number(r['streams']):>7}  {share(r['cpu_share'], 1):>9}  "
                    f"{number(r['cpu_ms_per_stream_second'], 2):>19}  {number(r['cpu_us_per_packet'], 1):>13}  "
                    f"{number(r['packets_per_second'], 0):>9}  {number(r['rss_mb'], 1):>6}  "
                    f"{number(r['rss_kb_per_stream'], 0):>13}"
                )
        finally:
            server.process.terminate()
            server.process.wait(10)


if __name__ == "__main__":
    main()
