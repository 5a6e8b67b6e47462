"""The UI speaks formal German: no page a patient or member sees says "du"."""

import re

import pytest
from django.test import Client

from tests import factories

# "kontaktiere": allauth's German on its password reset page, which this list did not catch; the
# URL walker (tests/walker.py, formal_german) checks every page of every role with this pattern.
INFORMAL = re.compile(
    r"\b(du|dich|dir|dein|deine|deinen|deiner|deinem|deines|versuche es|gib|bestätige|wähle|kontaktiere|lass)\b", re.I
)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/konto/login/",
        "/konto/signup/",
        "/konto/password/reset/",
        "/konto/confirm-email/",
        "/impressum/",
        "/datenschutz/",
        "/nutzungsbedingungen/",
        "/hilfe/",
        "/hilfe/patienten/",
        "/status/",
    ],
)
def test_public_pages_use_formal_german(client, db, path):
    text = visible_text(client.get(path).content.decode())
    assert not INFORMAL.search(text), INFORMAL.search(text)


@pytest.mark.parametrize(
    "path",
    [
        "/praxis/",
        "/praxis/mitglieder/",
        "/praxis/geraete/",
        "/praxis/einstellungen/",
        "/praxis/kv-genehmigung/",
        "/konto/2fa/",
        "/konto/password/change/",
        "/konto/logout/",
        "/geraet/wartet/",
    ],
)
def test_member_pages_use_formal_german(db, path):
    client = Client()
    client.force_login(factories.member(factories.practice(), main=True))
    response = client.get(path, follow=True)
    text = visible_text(response.content.decode())
    assert not INFORMAL.search(text), INFORMAL.search(text)
