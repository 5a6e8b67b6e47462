from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseNotAllowed, JsonResponse
from django.utils import timezone

from sprechzimmer import inputs
from sprechzimmer.accounts.access import json_error, member_required
from sprechzimmer.accounts.keyblobs import STALE_KEY, check_record
from sprechzimmer.records.models import EncryptedRecord

#: Kinds of practice records the browser may store, with their size limit in bytes of ciphertext.
RECORD_KINDS = {"practice-note": 64 * 1024}


@member_required
def api_record(request, kind):
    """GET or PUT one encrypted record of the user's practice; the server sees only ciphertext."""
    if kind not in RECORD_KINDS:
        return json_error("Unbekannte Art von Datensatz.", 404)
    organisation = request.user.organisation
    if request.method == "GET":
        record = EncryptedRecord.objects.filter(organisation=organisation, kind=kind).first()
        return JsonResponse(_as_json(record))
    if request.method != "PUT":
        return HttpResponseNotAllowed(["GET", "PUT"])
    if not request.user.has_practice_key:
        return json_error("Sie haben noch keinen Zugriff auf den Praxisschlüssel.", 403)
    incomplete = "Die Daten waren unvollständig. Ihre Eingabe ist noch im Browser; bitte speichern Sie erneut."
    try:
        body = inputs.json_body(request)
    except inputs.InputError:
        return json_error(incomplete)
    base_version = inputs.parse_int(body.get("base_version") or 0, minimum=0, maximum=2**31 - 1)
    if base_version is None or not isinstance(body.get("ciphertext"), str):
        return json_error(incomplete)
    try:
        ciphertext = check_record(body["ciphertext"], RECORD_KINDS[kind], key_version=organisation.key_version)
    except ValidationError as exc:
        if exc.code == "stale_key":
            return json_error(STALE_KEY + " Ihre Eingabe ist noch im Browser.", 409)
        return json_error("Der Eintrag ist zu groß oder beschädigt. Ihre Eingabe ist noch im Browser.")
    with transaction.atomic():
        record = EncryptedRecord.objects.select_for_update().filter(organisation=organisation, kind=kind).first()
        current = record.version if record else 0
        if current != base_version:
            # Someone saved in between: do not overwrite their text; the browser shows both.
            return JsonResponse(
                {
                    "error": "Ein Kollege hat den Eintrag inzwischen geändert. Bitte prüfen Sie beide Fassungen.",
                    **_as_json(record),
                },
                status=409,
            )
        if record is None:
            record = EncryptedRecord(organisation=organisation, kind=kind, version=0)
        record.ciphertext = ciphertext
        record.version = current + 1
        record.updated_by = request.user
        record.updated_at = timezone.now()
        record.save()
    return JsonResponse(_as_json(record))


def _as_json(record: EncryptedRecord | None) -> dict:
    if record is None:
        return {"ciphertext": None, "version": 0, "updated_by": None, "updated_at": None}
    return {
        "ciphertext": record.ciphertext,
        "version": record.version,
        "updated_by": str(record.updated_by) if record.updated_by else None,
        "updated_at": record.updated_at.isoformat(),
    }
