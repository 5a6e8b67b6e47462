"""The browser's cost of conference frame encryption (lib/sframe.js, SFrame AES-256-GCM) per frame,
in headless Chromium on this machine:

1. In a live call: two RTCPeerConnections in one page sending the fake camera at 1280×720 (VP8, 30
   fps) through the frame worker on both ends; the worker's own sums give µs per frame to encrypt and
   to decrypt (wall time in the worker, WebCrypto's dispatch included) and the mean frame size.
2. The same calls in a tight loop (page thread, one frame after the other): µs per frame for the live
   mean frame size, a 20 kB frame and a 100 kB key frame, median of several batches.

    .venv/bin/python bench/sframe_cost.py [--seconds 20] [--frames 500]

Starts its own server (Daphne, SQLite) with demo data, for the product's static files and CSP.
Browsers coarsen performance.now() (100 µs plus jitter without cross-origin isolation): the live
figure is a mean over thousands of frames, the loop figure a batch total divided by its size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sprechzimmer.core.formats import number  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_demo_instance  # noqa: E402

LIB = "/static/sprechzimmer/js/lib/"

LIVE = """async ([lib, seconds]) => {
  const fc = await import(lib + "framecrypto.js");
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720, frameRate: 30 } });
  const send = new fc.FrameCrypto();
  const receive = new fc.FrameCrypto();
  const secret = crypto.getRandomValues(new Uint8Array(32));
  send.useGrant({ epoch: 1, sender: 0, secret });
  receive.useGrant({ epoch: 1, sender: 1, secret });
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  b.ontrack = (e) => receive.decrypt(e.receiver);
  const transceiver = a.addTransceiver(stream.getVideoTracks()[0], { direction: "sendonly" });
  transceiver.setCodecPreferences(RTCRtpReceiver.getCapabilities("video").codecs.filter((c) => c.mimeType === "video/VP8"));
  send.encrypt(transceiver.sender);
  // 720p throughout: under load the encoder drops frames rather than resolution
  const parameters = transceiver.sender.getParameters();
  parameters.degradationPreference = "maintain-resolution";
  await transceiver.sender.setParameters(parameters);
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const report = await b.getStats();
  const video = [...report.values()].find((r) => r.type === "inbound-rtp" && r.kind === "video");
  const result = { send: await send.stats(), receive: await receive.stats(),
                   framesDecoded: video.framesDecoded, width: video.frameWidth, height: video.frameHeight };
  a.close(); b.close(); send.close(); receive.close();
  stream.getTracks().forEach((t) => t.stop());
  return result;
}"""

LOOP = """async ([lib, size, frames, batches]) => {
  const sf = await import(lib + "sframe.js");
  const ring = new sf.KeyRing();
  ring.addEpoch(1, crypto.getRandomValues(new Uint8Array(32)));
  ring.sendWith(1, 0);
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(payload.subarray(i, i + 65536));
  await ring.decrypt(await ring.encrypt(payload, 3), 3);  // keys derived before timing
  const enc = [], dec = [];
  for (let b = 0; b < batches; b++) {
    const sealed = [];
    let t = performance.now();
    for (let i = 0; i < frames; i++) sealed.push(await ring.encrypt(payload, 3));
    enc.push((performance.now() - t) * 1000 / frames);
    t = performance.now();
    for (const frame of sealed) { const opened = await ring.decrypt(frame, 3); if (!opened.ok) throw new Error("open"); }
    dec.push((performance.now() - t) * 1000 / frames);
  }
  return { enc, dec };
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="length of the live call")
    parser.add_argument("--frames", type=int, default=500, help="frames per batch in the loop")
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    process, url = start_demo_instance("sz-bench-sframe-")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url + "/")
            started = time.monotonic()
            live = page.evaluate(LIVE, [LIB, args.seconds])
            send, receive = live["send"], live["receive"]
            mean_size = send["encryptedBytes"] / max(send["encrypted"], 1)
            print(
                f"Live call {live['width']}×{live['height']} VP8, {number(time.monotonic() - started, 0)} s: "
                f"{number(send['encrypted'])} frames encrypted, {number(receive['decrypted'])} decrypted, "
                f"{number(live['framesDecoded'])} decoded, mean frame {number(mean_size / 1000, 1)} kB"
            )
            print(
                f"  worker, per frame: encrypt {number(send['encryptMicros'] / max(send['encrypted'], 1), 0)} µs, "
                f"decrypt {number(receive['decryptMicros'] / max(receive['decrypted'], 1), 0)} µs "
                f"(refused: {number(receive['authFailed'] + receive['unknownKid'] + receive['malformed'])})"
            )
            print(f"Loop, page thread, median of {number(args.batches)} batches of {number(args.frames)} frames:")
            for label, size in (("live mean", round(mean_size)), ("20 kB", 20_000), ("100 kB key frame", 100_000)):
                loop = page.evaluate(LOOP, [LIB, size, args.frames, args.batches])
                print(
                    f"  {label:>17} ({number(size)} B): encrypt {number(statistics.median(loop['enc']), 0)} µs, "
                    f"decrypt {number(statistics.median(loop['dec']), 0)} µs per frame"
                )
            browser.close()
    finally:
        process.terminate()
        process.wait(30)


if __name__ == "__main__":
    main()
