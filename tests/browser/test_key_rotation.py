"""Practice key rotation when a member leaves (issue 22, docs/e2ee.md "Key versions and rotation").

A colleague copies the raw practice key out of their browser (what a departing employee with a
console could do), is deactivated, and the main user rotates at once in the browser. The test keeps
the copied key and tries it in Python (sprechzimmer_client.crypto): nothing re-encrypted and nothing
written after the rotation opens with it; the colleague who stays reads everything. The
re-encryption is cut off mid-way (the connection drops) and finishes after a reload; a colleague's
edit made while it runs is not overwritten.

The practice is one of its own on the shared test server, so the demo practice other tests use
keeps its key."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from sprechzimmer.demo import keys
from sprechzimmer_client import crypto
from tests.browser.helpers import login, read_note

pytestmark = pytest.mark.browser

PASSWORD = "Schluessel-Wechsel-2026!"
TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
APPOINTMENTS = 70  # more than one batch of the re-encryption job (50)

SETUP = """
import base64, datetime as dt, json
from cryptography.hazmat.primitives import serialization
from django.utils import timezone
from sprechzimmer.accounts.models import User
from sprechzimmer.demo import keys, provisioning
from sprechzimmer.records.models import EncryptedRecord
from sprechzimmer.video.models import Appointment
from sprechzimmer_client import crypto

org, main, key, recovery = provisioning.create_practice(
    name="Praxis Wechsel", bsnr="527777771", main_email="chefin@wechsel.test", main_name="Dr. Chefin",
    password=PASSWORD, lanr="838382202")
leaving = provisioning.add_member(org, email="geht@wechsel.test", name="Gerd Geht", password=PASSWORD, practice_key=key)
staying = provisioning.add_member(org, email="bleibt@wechsel.test", name="Berta Bleibt", password=PASSWORD, practice_key=key)
for user in (main, leaving, staying):
    provisioning.enable_totp(user, TOTP)
# a practice from before the recovery key pair: only the symmetric wrap of version 1
org.recovery_public_key = ""
org.recovery_wrapped_key = keys.wrap_with_recovery_key(key, keys.parse_recovery_key(recovery))
org.save()
note = crypto.record_context(org.pk, "practice-note")
# as browsers wrote before key versions: no kid, i.e. version 1
EncryptedRecord.objects.create(organisation=org, kind="practice-note", version=1,
    ciphertext=crypto.seal(key, json.dumps({"text": "Vor dem Wechsel"}).encode(), note, crypto.ALG_RECORD))
patient = crypto.record_context(org.pk, "appointment-patient")
start = timezone.now().replace(hour=8, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
for i in range(APPOINTMENTS):
    Appointment.objects.create(organisation=org, doctor=main, start=start + dt.timedelta(minutes=15 * (i % 40), days=i // 40),
        patient_ciphertext=crypto.encrypt_record(key, patient, {"name": f"Patient {i}", "birth_date": "", "email": "", "phone": "", "note": ""}))
# the practice's key pair for what patients type, and a name a patient typed before the rotation
from cryptography.hazmat.primitives.asymmetric import ec
pair = ec.generate_private_key(ec.SECP256R1())
pkcs8 = pair.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
org.public_key = crypto.public_key_text(pair)
org.wrapped_private_key = crypto.encrypt_record(key, f"sprechzimmer/v1/practice-private-key/{org.pk}", {"pkcs8": crypto.b64u(pkcs8)})
org.save()
typed = crypto.wrap_to_public_key("Vor dem Wechsel getippt".encode(), org.public_key)
print(json.dumps({"org": org.pk, "key": crypto.b64u(key), "start": start.date().isoformat(), "recovery": recovery,
                  "pair_public": org.public_key, "typed": typed}))
"""

PATIENT_TEXT = """async (typedBefore) => {
    const e2ee = await import("/static/sprechzimmer/js/lib/e2ee.js");
    const keyring = await import("/static/sprechzimmer/js/lib/keyring.js");
    const pair = await keyring.practiceKeyPair();
    const typedAfter = await e2ee.wrapToPublicKey(new TextEncoder().encode("Nach dem Wechsel getippt"), pair.publicKey);
    const pairs = await (await fetch("/api/praxis/schluesselpaar/")).json();
    return {publicKey: pair.publicKey, previous: pair.previous.map((p) => p.public_key),
            before: await keyring.openFromPatient(typedBefore, pair), after: await keyring.openFromPatient(typedAfter, pair),
            wrapped: pairs.wrapped_private_key};
}"""

COPY_KEY = """async () => {
    const e2ee = await import("/static/sprechzimmer/js/lib/e2ee.js");
    const keyring = await import("/static/sprechzimmer/js/lib/keyring.js");
    const keystore = await import("/static/sprechzimmer/js/lib/keystore.js");
    await keyring.practiceKey();
    const keys = await (await fetch("/api/schluessel/")).json();
    const raw = await e2ee.unwrapFromPublicKey(keys.wrapped_practice_key, (await keystore.get("private")).key, keys.public_key);
    return e2ee.b64u(raw);
}"""

OPEN_WITH_RECOVERY = """async ([wrapped, text, publicKey]) => {
    const e2ee = await import("/static/sprechzimmer/js/lib/e2ee.js");
    const pair = await e2ee.recoveryKeyPair(text);
    return [pair.publicKey, e2ee.b64u(await e2ee.openWithRecovery(wrapped, text, publicKey))];
}"""

READ_ALL = """async ([from, to]) => {
    const keyring = await import("/static/sprechzimmer/js/lib/keyring.js");
    const patients = await import("/static/sprechzimmer/js/lib/patientdata.js");
    const entry = await keyring.practiceKey();
    const list = (await (await fetch(`/api/termine/?von=${from}&bis=${to}`)).json()).appointments;
    const names = [];
    for (const a of list) names.push((await patients.decryptPatient(entry, a.patient)).name);
    return names;
}"""


def _raw(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _setup(server) -> dict:
    code = f"PASSWORD = {PASSWORD!r}; TOTP = {TOTP!r}; APPOINTMENTS = {APPOINTMENTS}\n" + SETUP
    return json.loads(server.manage("shell", "-c", code).strip().splitlines()[-1])


def _ciphertexts(server, org: int) -> list[str]:
    code = (
        "from sprechzimmer.video.models import Appointment; from sprechzimmer.records.models import EncryptedRecord; "
        "import json; print(json.dumps("
        f"list(Appointment.objects.filter(organisation_id={org}).values_list('patient_ciphertext', flat=True)) + "
        f"list(EncryptedRecord.objects.filter(organisation_id={org}).values_list('ciphertext', flat=True))))"
    )
    return json.loads(server.manage("shell", "-c", code).strip().splitlines()[-1])


def test_a_copied_key_reads_nothing_after_rotation_and_the_rest_read_everything(new_page, server):
    practice = _setup(server)
    leaver = new_page()
    login(leaver, "geht@wechsel.test", PASSWORD, TOTP)
    copied = _raw(leaver.evaluate(COPY_KEY))
    assert len(copied) == 32
    assert crypto.decrypt_record(
        copied, crypto.record_context(practice["org"], "appointment-patient"), _ciphertexts(server, practice["org"])[0]
    )

    main = new_page()
    login(main, "chefin@wechsel.test", PASSWORD, TOTP)
    main.goto("/praxis/mitglieder/")
    main.locator("tr", has_text="Gerd Geht").locator("button:has-text('Deaktivieren')").click()
    main.wait_for_selector("#rotation-offer:has-text('Gerd Geht')")  # offered at once
    leaver_keys = (
        "async () => { const r = await fetch('/api/schluessel/'); return (await r.text()).includes('wrapped'); }"
    )
    assert leaver.evaluate(leaver_keys) is False  # no wrap of any version for them any more

    # The connection drops after 20 re-encrypted records: the job stops, nothing half-done.
    posts = {"n": 0}

    def cut_off(route):
        if route.request.method == "POST":
            posts["n"] += 1
            if posts["n"] > 20:
                route.abort()
                return
        route.continue_()

    main.route("**/api/schluessel/umschluesseln/", cut_off)
    # An old practice: the recovery key is typed once, so that it can restore every new version.
    main.fill("#recovery-key-input", "falsch-" + practice["recovery"][7:])
    main.click("#rotate-key")
    main.wait_for_selector("#rotation-status:has-text('passt nicht')")
    assert main.text_content("#key-version") == "1"
    main.fill("#recovery-key-input", practice["recovery"].lower())
    main.click("#rotate-key")
    main.wait_for_selector("#key-rotation[data-state=error]")
    assert main.text_content("#key-version") == "2"
    remaining = [c for c in _ciphertexts(server, practice["org"]) if crypto.envelope_kid(c) == 1]
    assert len(remaining) == APPOINTMENTS + 1 - 20

    # A colleague edits the note while the re-encryption is not finished: the edit must survive.
    staying = new_page()
    login(staying, "bleibt@wechsel.test", PASSWORD, TOTP)
    assert read_note(staying) == "Vor dem Wechsel"
    staying.fill("#note-text", "Nach dem Wechsel, von Berta")
    staying.click("#practice-note button")
    staying.wait_for_selector("#practice-note[data-saved='2']")

    main.unroute("**/api/schluessel/umschluesseln/")
    main.reload()  # resumes by itself
    main.wait_for_selector("#key-rotation[data-state=done]", timeout=120_000)
    assert "Alle Einträge" in main.text_content("#rotation-status")

    # A record written after the rotation, in the main user's browser.
    main.goto("/praxis/")
    main.wait_for_selector("#practice-note[data-state=ready]")
    assert main.input_value("#note-text") == "Nach dem Wechsel, von Berta"
    main.fill("#note-text", "Geheim nach dem Wechsel")
    main.click("#practice-note button")
    main.wait_for_selector("#practice-note[data-saved='3']")

    stored = _ciphertexts(server, practice["org"])
    assert len(stored) == APPOINTMENTS + 1
    for ciphertext in stored:
        assert crypto.envelope_kid(ciphertext) == 2
        for kind in ("appointment-patient", "practice-note"):
            with pytest.raises(crypto.CryptoError):
                crypto.decrypt_record(copied, crypto.record_context(practice["org"], kind), ciphertext)

    # The colleague who stays reads everything, old records (re-encrypted) and new ones.
    assert read_note(staying) == "Geheim nach dem Wechsel"
    first = dt.date.fromisoformat(practice["start"])
    names = staying.evaluate(READ_ALL, [first.isoformat(), (first + dt.timedelta(days=3)).isoformat()])
    assert sorted(names) == sorted(f"Patient {i}" for i in range(APPOINTMENTS))

    # A new key pair for what patients type came with the version: a name typed before still opens
    # (through the old pair), one typed after goes to the new pair, whose private key the copied
    # old practice key cannot open.
    texts = staying.evaluate(PATIENT_TEXT, practice["typed"])
    assert texts["publicKey"] != practice["pair_public"] and texts["previous"] == [practice["pair_public"]]
    assert texts["before"] == "Vor dem Wechsel getippt" and texts["after"] == "Nach dem Wechsel getippt"
    pair_context = f"sprechzimmer/v1/practice-private-key/{practice['org']}"
    assert crypto.envelope_kid(texts["wrapped"]) == 2
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_record(copied, pair_context, texts["wrapped"])

    # A second rotation; then the printed recovery key still opens the newest version.
    main.goto("/praxis/mitglieder/")
    main.wait_for_selector("#key-rotation[data-state=idle]")
    assert main.locator("#recovery-key-input").count() == 0  # set up once, never asked again
    main.click("#rotate-key")
    main.wait_for_selector("#key-rotation[data-state=done]", timeout=120_000)
    assert main.text_content("#key-version") == "3"
    code = (
        "from sprechzimmer.accounts.models import Organisation; import json; "
        f"o = Organisation.objects.get(pk={practice['org']}); "
        "print(json.dumps([o.recovery_wrapped_key, o.recovery_public_key, o.recovery_key_version]))"
    )
    wrapped, public_key, version = json.loads(server.manage("shell", "-c", code).strip().splitlines()[-1])
    assert version == 3
    derived, restored = main.evaluate(OPEN_WITH_RECOVERY, [wrapped, practice["recovery"], public_key])
    bits = keys.parse_recovery_key(practice["recovery"])
    assert derived == public_key == crypto.public_key_text(crypto.recovery_private_key(bits))  # Chromium = Python
    assert _raw(restored) == _raw(staying.evaluate(COPY_KEY))  # the current version, as a member holds it
    assert _raw(restored) != copied
    # the leaver's page lost its session (not ours to judge); the main user's only error is the cut-off
    assert not staying.errors and all("ERR_FAILED" in error for error in main.errors)
