"""The request that once took 1.5 GB of server memory and 360 MB of database (20 files of 9 MB to an
anonymous K-Arzt application) against the real server: refused with 413, memory and database as
before; a request within the limits is stored encrypted on disk, not in the database (issue 11,
item 3). No browser: plain HTTP like an attacker's script."""

import http.client
import http.cookiejar
import re
import secrets
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pytest

pytestmark = pytest.mark.browser

MB = 1024 * 1024


def start_application(base: str) -> tuple[str, str, str]:
    """Starts an application like the form does; returns (path, csrf token, cookie header)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/kooperationsarzt/").read().decode()
    kv = re.search(r'<option value="(\d+)"', page).group(1)
    token = next(c.value for c in jar if c.name == "csrftoken")
    data = urlencode(
        {
            "csrfmiddlewaretoken": token,
            "kv": kv,
            "full_name": "Dr. Groß",
            "birth_date": "1980-01-01",
            "email": f"gross-{secrets.token_hex(3)}@example.org",
        }
    ).encode()
    response = opener.open(
        urllib.request.Request(f"{base}/kooperationsarzt/", data=data, headers={"Referer": f"{base}/kooperationsarzt/"})
    )
    path = urlparse(response.url).path
    assert path.startswith("/kooperationsarzt/antrag/")
    return path, token, "; ".join(f"{c.name}={c.value}" for c in jar)


def post_files(base: str, path: str, token: str, cookies: str, count: int, size: int) -> int:
    """A multipart POST with ``count`` PDF files of ``size`` bytes, streamed; returns the status."""
    boundary = "----sz" + secrets.token_hex(8)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="clinical_months"\r\n\r\n0\r\n'
    ).encode()
    file_head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file-approbation"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    content = b"%PDF-1.7\n" + b"%" * (size - 9)
    tail = f"--{boundary}--\r\n".encode()
    length = len(head) + count * (len(file_head) + size + 2) + len(tail)

    def body():
        yield head
        for _ in range(count):
            yield file_head
            for start in range(0, size, MB):
                yield content[start : start + MB]
            yield b"\r\n"
        yield tail

    parsed = urlparse(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    try:
        connection.request(
            "POST",
            path,
            body=body(),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(length),
                "Cookie": cookies,
                "X-CSRFToken": token,
                "Referer": base + path,
            },
        )
        return connection.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        return 0  # the server closed while we were still sending: refused
    finally:
        connection.close()


def test_an_oversized_body_is_refused_before_it_is_sent(server):
    """The server answers 413 as soon as the headers name a body over REQUEST_MAX_BYTES: the client
    has sent a few bytes of 180 MB and nothing is buffered."""
    import socket

    parsed = urlparse(server.url)
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as sock:
        sock.sendall(
            b"POST /kooperationsarzt/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Length: 188743680\r\n\r\n" + b"x" * 1000
        )
        answer = sock.recv(4096).decode("utf-8", "replace")
    assert answer.startswith("HTTP/1.1 413") and "Die Anfrage ist zu groß" in answer


def test_twenty_files_of_nine_megabytes_are_refused_and_cost_nothing(server):
    path, token, cookies = start_application(server.url)
    documents = Path(server.env["DATA_DIR"]) / "documents"
    before_db, before_rss = server.db.size(), server.rss_bytes()
    assert post_files(server.url, path, token, cookies, count=20, size=9 * MB) in (413, 0)
    assert server.db.size() - before_db < MB
    assert server.rss_bytes() - before_rss < 16 * MB
    assert not list(documents.glob("*/*.szd")) or all(p.stat().st_size < 10 * MB for p in documents.glob("*/*.szd"))

    # Three files of 9 MB are within every limit: stored encrypted on disk, the database barely grows.
    stored_before = set(documents.glob("*/*.szd"))
    before_db, before_rss = server.db.size(), server.rss_bytes()
    assert post_files(server.url, path, token, cookies, count=3, size=9 * MB) == 302
    new = set(documents.glob("*/*.szd")) - stored_before
    assert len(new) == 3 and all(p.stat().st_size > 9 * MB for p in new)
    assert server.db.size() - before_db < MB
    assert server.rss_bytes() - before_rss < 100 * MB
