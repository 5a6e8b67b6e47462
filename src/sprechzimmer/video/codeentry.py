"""What every page that takes a typed access code does before looking the code up (the patient's
and a conference guest's): the per-address backoff after wrong codes, the JSON body, and under a
guessing attack the proof of work (docs/signalling.md). One place, so both doors cost a guesser
the same."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse

from sprechzimmer import inputs, proofofwork, ratelimit
from sprechzimmer.accounts.access import json_error


def failures() -> ratelimit.Backoff:
    return ratelimit.Backoff("access-code", settings.ACCESS_CODE_LIMIT_PER_ADDRESS, 60)


def attempt(request: HttpRequest) -> tuple[dict, None] | tuple[None, JsonResponse]:
    """(the request's JSON, None) when the code may be looked up, else (None, the refusal)."""
    wait = failures().blocked_for(ratelimit.request_key(request))
    if wait:
        return None, json_error(
            "Zu viele falsche Zugangscodes von diesem Internetanschluss. Bitte versuchen Sie es "
            f"{ratelimit.wait_text(wait)} erneut.",
            429,
        )
    try:
        data = inputs.json_body(request)
    except ValidationError as exc:
        return None, json_error(" ".join(exc.messages))
    bits = proofofwork.required_bits()
    if bits and not proofofwork.verify(data.get("proof")):
        # Under a guessing attack every attempt pays a little work in the browser; the right code
        # is never refused for it.
        return None, JsonResponse(
            {"error": "Bitte einen Moment Geduld, Ihr Zugang wird geprüft.", **proofofwork.challenge(bits)}, status=429
        )
    return data, None


def wrong_code(request: HttpRequest) -> None:
    """Counts a wrong code against the address and towards the global guessing pressure."""
    failures().failed(ratelimit.request_key(request))
    proofofwork.count_failure()
