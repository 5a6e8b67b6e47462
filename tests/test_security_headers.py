"""Secure headers on every page and no request to another host from any page or asset."""

import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "sprechzimmer"


def test_security_headers(client, db):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", csp).group(1)
    assert script_src.strip() == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=(self)" in response["Permissions-Policy"]


def test_german_is_the_default_language(client, db):
    response = client.get("/konto/login/")
    assert response["Content-Language"] == "de"
    assert "Anmelden" in response.content.decode()


def test_no_third_party_assets_and_no_inline_scripts():
    external = re.compile(r"""(src|href)=["']https?://|@import\s+url\(["']?https?://|url\(["']?https?://""")
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
    inline_handler = re.compile(r"\son(click|load|submit|change|input)=", re.I)
    for path in SRC.rglob("*"):
        if path.suffix in (".html", ".js", ".css"):
            text = path.read_text()
            assert not external.search(text), path
            if path.suffix == ".html":
                assert not inline_script.search(text), path
                assert not inline_handler.search(text), path
