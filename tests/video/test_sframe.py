"""Conference frame encryption (lib/sframe.js, lib/confkeys.js): the frame format's unit tests in
Node's test runner on Node's WebCrypto (tests/video/sframe_unit.mjs), and the same frame computed a
second way, with Python's `cryptography`, from RFC 9605's key schedule and AEAD as written."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

UNIT = Path(__file__).with_name("sframe_unit.mjs")
LIB = Path(__file__).resolve().parents[2] / "src" / "sprechzimmer" / "static" / "sprechzimmer" / "js" / "lib"


@pytest.fixture(scope="module")
def node_run(tmp_path_factory) -> str:
    if not shutil.which("node"):
        pytest.fail("Node.js wird für die Tests benötigt (Debian: apt-get install nodejs)")
    # The browser's modules are plain .js files, which Node reads as CommonJS unless a package.json
    # says "module": a copy of lib/ beside one (no flag for it exists in Debian's Node 18).
    lib = tmp_path_factory.mktemp("sframe") / "lib"
    shutil.copytree(LIB, lib)
    (lib / "package.json").write_text('{"type": "module"}')
    result = subprocess.run(
        ["node", "--test", "--test-reporter=tap", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SFRAME_LIB": str(lib)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_frame_format_and_key_distribution_units_pass(node_run):
    passed = re.search(r"^# pass (\d+)$", node_run, re.M)
    failed = re.search(r"^# fail (\d+)$", node_run, re.M)
    assert passed and failed, node_run
    assert int(failed.group(1)) == 0 and int(passed.group(1)) >= 10, node_run


def _expand(base_key: bytes, label: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA512(), length=length, salt=None, info=label).derive(base_key)


def test_frame_matches_rfc_9605_computed_independently(node_run):
    """RFC 9605 § 4.4.2/4.4.3 with cipher suite 0x0005 (AES_256_GCM_SHA512_128): key and salt by
    HKDF-SHA512 over the labels with KID (8 bytes) and suite (2 bytes); nonce = salt XOR CTR; AAD =
    header + metadata (here the 10 clear bytes of a VP8 key frame)."""
    match = re.search(r"KAT ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)", node_run)
    assert match, node_run
    base_key, js_salt, frame = (bytes.fromhex(g) for g in match.groups())
    kid, ctr = 0x1234, 0x0506
    suffix = kid.to_bytes(8, "big") + (5).to_bytes(2, "big")
    key = _expand(base_key, b"SFrame 1.0 Secret key " + suffix, 32)
    salt = _expand(base_key, b"SFrame 1.0 Secret salt " + suffix, 12)
    assert salt == js_salt
    # config byte: X=1, KLEN-1=1 (0x1234 takes two bytes); Y=1, CLEN-1=1
    header = bytes([0x80 | 0x10 | 0x08 | 0x01]) + kid.to_bytes(2, "big") + ctr.to_bytes(2, "big")
    payload = bytes((i * 31 + 3) & 0xFF for i in range(40))
    nonce = bytes(a ^ b for a, b in zip(salt, ctr.to_bytes(12, "big"), strict=True))
    expected = payload[:10] + header + AESGCM(key).encrypt(nonce, payload[10:], header + payload[:10])
    assert frame == expected
