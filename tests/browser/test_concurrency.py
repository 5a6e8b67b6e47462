"""The embedded default must not lose a request under light concurrency (issue 11, item 6): 60
writes at once against the live server — appointments, note saves with read-then-write
transactions, document uploads — and not one fails; no "database is locked" in the log. Runs on
SQLite in the first CI leg and on PostgreSQL in the second. Plain HTTP, no browser."""

import base64
import http.cookiejar
import json
import os
import re
import secrets
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest

from sprechzimmer.demo.data import DEMO_PASSWORD, DEMO_USERS
from sprechzimmer.demo.keys import derive_login_secrets
from tests.browser.helpers import fresh_totp

pytestmark = pytest.mark.browser

(DOCTOR, _, _, _, DOCTOR_TOTP), _staff = DEMO_USERS
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n" + b"%" * 4000


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def envelope() -> str:
    return json.dumps({"v": 1, "alg": "A256GCM", "iv": b64u(os.urandom(12)), "ct": b64u(os.urandom(64))})


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer (urllib raises it as HTTPError)


class Session:
    """A cookie-holding HTTP client that sends Django's CSRF token like our pages do."""

    def __init__(self, base: str, follow: bool = True, jar: http.cookiejar.CookieJar | None = None):
        self.base, self.jar = base, jar if jar is not None else http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)] + ([] if follow else [_NoRedirects()])
        self.opener = urllib.request.build_opener(*handlers)

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def send(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> tuple[int, bytes]:
        """(status, body); redirects are followed, ``self.url`` is where they ended."""
        headers = {
            "X-CSRFToken": self.csrf() if any(c.name == "csrftoken" for c in self.jar) else "",
            "Referer": self.base + path,
            "Accept": "application/json",
        }
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                self.url = response.url
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def form(self, path: str, fields: dict) -> tuple[int, bytes]:
        return self.send(
            "POST",
            path,
            urlencode({"csrfmiddlewaretoken": self.csrf(), **fields}).encode(),
            "application/x-www-form-urlencoded",
        )

    def json(self, method: str, path: str, data: dict) -> tuple[int, bytes]:
        return self.send(method, path, json.dumps(data).encode(), "application/json")


def logged_in_doctor(base: str) -> Session:
    session = Session(base)
    session.send("GET", "/konto/login/")
    secret = derive_login_secrets(DOCTOR, DEMO_PASSWORD)[0]
    status, _ = session.form("/konto/login/", {"login": DOCTOR, "password": secret})
    assert status in (200, 302)
    session.send("GET", "/konto/2fa/authenticate/")
    session.form("/konto/2fa/authenticate/", {"code": fresh_totp(DOCTOR_TOTP)})
    status, _ = session.send("GET", "/praxis/termine/")
    assert status == 200, "the demo doctor could not log in"
    return session


def multipart(token: str, anlage: str) -> tuple[bytes, str]:
    boundary = "----sz" + secrets.token_hex(8)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="clinical_months"\r\n\r\n0\r\n'.encode(),
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file-{anlage}"; filename="{anlage}.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_sixty_concurrent_writes_all_succeed(server):
    doctor = logged_in_doctor(server.url)
    calendar = doctor.send("GET", "/praxis/termine/")[1].decode()
    doctor_id = int(re.search(r'<option value="(\d+)"[^>]*>Dr\. med\. Anna Demo', calendar).group(1))

    applicant = Session(server.url)
    kv = re.search(r'<option value="(\d+)"', applicant.send("GET", "/kooperationsarzt/")[1].decode()).group(1)
    applicant.form(
        "/kooperationsarzt/",
        {
            "kv": kv,
            "full_name": "Dr. Parallel",
            "birth_date": "1980-01-01",
            "email": f"parallel-{secrets.token_hex(3)}@example.org",
        },
    )
    path = applicant.url.replace(server.url, "")
    assert path.startswith("/kooperationsarzt/antrag/")

    start = datetime.now() + timedelta(days=1)
    original = json.loads(doctor.send("GET", "/api/datensaetze/practice-note/")[1])
    version = original["version"]

    def appointment(n):
        when = (start + timedelta(minutes=15 * n)).strftime("%Y-%m-%dT%H:%M")
        return doctor.json(
            "POST",
            "/api/termine/",
            {"doctor_id": doctor_id, "start": when, "duration_minutes": 15, "patient": envelope()},
        )

    def note(n):
        return doctor.json(
            "PUT", "/api/datensaetze/practice-note/", {"ciphertext": envelope(), "base_version": version}
        )

    uploader = Session(server.url, follow=False, jar=applicant.jar)

    def upload(n):
        # Not following the redirect: a saved upload answers 302 (its success message would be a
        # cookie shared by all these requests of one session, so it could show on another's page).
        body, content_type = multipart(applicant.csrf(), ("approbation", "specialist", "police", "liability")[n % 4])
        return uploader.send("POST", path, body, content_type)

    jobs = [(appointment, n) for n in range(25)] + [(note, n) for n in range(20)] + [(upload, n) for n in range(15)]
    try:
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            results = list(pool.map(lambda job: (job[0].__name__, *job[0](job[1])), jobs))
    finally:
        # The demo practice's real note back for the tests after this one (the saves here are noise).
        current = json.loads(doctor.send("GET", "/api/datensaetze/practice-note/")[1])["version"]
        status, _ = doctor.json(
            "PUT", "/api/datensaetze/practice-note/", {"ciphertext": original["ciphertext"], "base_version": current}
        )
        assert status == 200

    failures = [
        (kind, status, body[-300:])
        for kind, status, body in results
        if status >= 500
        or (kind == "appointment" and status != 201)
        or (kind == "upload" and status != 302)
        or (kind == "note" and status not in (200, 409))
    ]
    assert failures == []
    # Read-then-write on one record: exactly one save wins, the others are told about it (409).
    assert sum(status == 200 for kind, status, _ in results if kind == "note") == 1
    assert "database is locked" not in server.log()
