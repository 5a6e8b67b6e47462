"""SMS for integrated invitations (docs/invitations.md): German mobile numbers checked and
normalised with ``phonenumbers`` (Google's libphonenumber data, kept current), segments counted
with smpplib's GSM 03.38 splitter, and the backends behind one interface (``send``).

Backends (``SMS_BACKEND``): ``console`` for development (prints the text and a masked number),
``http`` (a provider's JSON API, below) and ``smpp``: one short SMPP 3.4 transmitter session per message with smpplib (python-smpplib, the
widely used synchronous client, which suits the worker's threads), submit_sm for each segment,
unbind. A session per message keeps no connection open in the worker between reminders hours
apart; SMSCs accept this for the volumes of a practice.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from dataclasses import dataclass

import phonenumbers
from django.conf import settings

log = logging.getLogger("sprechzimmer.invitations")
#: smpplib logs every PDU in hex at DEBUG (number and text included): its logger stays at WARNING
#: whatever LOG_LEVEL says.
SMPP_LOGGER = "sprechzimmer.smpp"
logging.getLogger(SMPP_LOGGER).setLevel(logging.WARNING)


class NumberRefused(ValueError):
    """A number we cannot send to; the message is German."""


class SmsNotSent(Exception):
    """The SMSC was not reached or refused the message; the text names no number."""


def normalise_number(text: object) -> str:
    """The number in E.164 (+4915112345678), or NumberRefused with the reason: SMS reach only
    German mobile numbers."""
    if not isinstance(text, str) or not text.strip() or len(text) > 40:
        raise NumberRefused("Bitte geben Sie die Mobilfunknummer des Patienten an.")
    try:
        number = phonenumbers.parse(text, "DE")
    except phonenumbers.NumberParseException:
        raise NumberRefused(
            "Das ist keine Telefonnummer. Bitte prüfen Sie die Eingabe (z. B. 0151 23456789)."
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise NumberRefused("Diese Telefonnummer ist ungültig. Bitte prüfen Sie die Eingabe (z. B. 0151 23456789).")
    if number.country_code != 49:
        raise NumberRefused(
            "SMS-Einladungen gehen nur an deutsche Mobilfunknummern (+49). "
            "Bitte laden Sie den Patienten per E-Mail oder über Ihr E-Mail-Programm ein."
        )
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise NumberRefused(
            "Das ist eine Festnetznummer; eine SMS erreicht nur Mobiltelefone. Bitte geben Sie eine Handynummer an."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parts(text: str) -> tuple[list[bytes], int, int]:
    """(segments, data_coding, esm_class): GSM 03.38 when the text allows it (160 characters in
    one segment), else UCS-2 (70); longer texts are split with a UDH."""
    import smpplib.gsm

    segments, coding, esm_class = smpplib.gsm.make_parts(text)
    return list(segments), coding, esm_class


def segment_count(text: str) -> int:
    return len(parts(text)[0])


@dataclass(frozen=True)
class Sent:
    message_id: str
    segments: int


def masked(number: str) -> str:
    return number[:6] + "…" + number[-2:]


def send(number: str, text: str) -> Sent:
    backend = settings.SMS_BACKEND
    if backend == "smpp":
        return _send_smpp(number, text)
    if backend == "http":
        return _send_http(number, text)
    segments = segment_count(text)
    sys.stdout.write(f"SMS an {masked(number)} ({segments} Teil(e)):\n{text}\n")
    return Sent(message_id="console", segments=segments)


def _send_http(number: str, text: str) -> Sent:
    """A provider's HTTP API: POST of JSON ``{"to": "+49…", "text": …, "from": SMS_SENDER}`` (the
    field names configurable, ``SMS_HTTP_FIELDS``) with ``Authorization: Bearer SMS_HTTP_TOKEN``;
    any 2xx is sent, the message id read from ``SMS_HTTP_ID_FIELD`` of a JSON answer."""
    import json
    import urllib.error
    import urllib.request

    to_field, text_field, from_field = settings.SMS_HTTP_FIELDS
    body = json.dumps({to_field: number, text_field: text, from_field: settings.SMS_SENDER}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if settings.SMS_HTTP_TOKEN:
        headers["Authorization"] = f"Bearer {settings.SMS_HTTP_TOKEN}"
    request = urllib.request.Request(settings.SMS_HTTP_URL, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.SMPP_TIMEOUT) as response:
            answer = response.read(64 * 1024)
    except (OSError, urllib.error.URLError) as error:
        raise SmsNotSent(type(error).__name__) from None
    try:
        message_id = str(json.loads(answer).get(settings.SMS_HTTP_ID_FIELD) or "")
    except (ValueError, AttributeError):
        message_id = ""
    return Sent(message_id=message_id or "http", segments=segment_count(text))


def _send_smpp(number: str, text: str) -> Sent:
    import smpplib.client
    import smpplib.consts
    import smpplib.exceptions

    segments, coding, esm_class = parts(text)
    ids: list[str] = []
    client = smpplib.client.Client(
        settings.SMPP_HOST,
        settings.SMPP_PORT,
        timeout=settings.SMPP_TIMEOUT,
        logger_name=SMPP_LOGGER,
        allow_unknown_opt_params=True,
    )
    client.set_message_sent_handler(lambda pdu: ids.append(_text(pdu.message_id)))
    try:
        client.connect()
        client.bind_transmitter(system_id=settings.SMPP_SYSTEM_ID, password=settings.SMPP_PASSWORD)
        for segment in segments:
            client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                source_addr_npi=smpplib.consts.SMPP_NPI_UNK,
                source_addr=settings.SMS_SENDER,
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                destination_addr=number.lstrip("+"),
                short_message=segment,
                data_coding=coding,
                esm_class=esm_class,
                registered_delivery=True,  # a delivery receipt, collected by collect_receipts
            )
            client.read_once()  # the submit_sm_resp; an error status raises
    except (OSError, smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError) as error:
        raise SmsNotSent(type(error).__name__) from None
    finally:
        try:
            if client.state == smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX:
                client.unbind()
        except Exception:  # an SMSC that closes on unbind without answering: the message is out
            pass
        client.disconnect()
    if len(ids) != len(segments):
        raise SmsNotSent("incomplete")
    return Sent(message_id=ids[0], segments=len(segments))


#: States of a delivery receipt (SMPP 3.4 Appendix B "stat:" and the message_state TLV).
DELIVERED = "DELIVRD"
RECEIPT_STATES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 8: "REJECTD"}
RECEIPT_TEXT = re.compile(rb"id:(?P<id>\S+).*?stat:(?P<stat>[A-Z]+)", re.DOTALL)


def receipt_meaning(state: str) -> str:
    """What an SMPP receipt's state means for the message: delivered, failed or (on its way, or a
    state we do not know) still sent."""
    if state in ("ENROUTE", "ACCEPTD", "UNKNOWN"):
        return "sent"
    return "delivered" if state == DELIVERED else "failed"


def collect_receipts(seconds: float) -> list[tuple[str, str]]:
    """Binds as receiver for ``seconds`` and returns the delivery receipts the SMSC hands over
    (message id, state such as DELIVRD or UNDELIV). SMSCs keep receipts for a system id until a
    receiver binds, so a short session every minute collects them (``tasks.collect_sms_receipts``)."""
    import smpplib.client
    import smpplib.consts
    import smpplib.exceptions

    receipts: list[tuple[str, str]] = []

    def received(pdu) -> None:  # type: ignore[no-untyped-def]
        if not (getattr(pdu, "esm_class", 0) or 0) & 0x04:
            return  # a message from a patient, not a receipt: nothing we read
        match = RECEIPT_TEXT.search(pdu.short_message or b"")
        message_id = _text(getattr(pdu, "receipted_message_id", None)) or (
            match.group("id").decode("ascii", "replace") if match else ""
        )
        state = RECEIPT_STATES.get(getattr(pdu, "message_state", None) or 0) or (
            match.group("stat").decode("ascii", "replace") if match else ""
        )
        if message_id and state:
            receipts.append((message_id, state))

    client = smpplib.client.Client(
        settings.SMPP_HOST, settings.SMPP_PORT, timeout=1, logger_name=SMPP_LOGGER, allow_unknown_opt_params=True
    )
    client.set_message_received_handler(received)
    try:
        client.connect()
        client.bind_receiver(system_id=settings.SMPP_SYSTEM_ID, password=settings.SMPP_PASSWORD)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                client.read_once(auto_send_enquire_link=False)
            except TimeoutError:
                continue
            except smpplib.exceptions.PDUError:
                # A generic_nack for our deliver_sm_resp (smpp34's SMSC answers smpplib's so): the
                # receipt is read already, and a receipt sent again changes nothing (record_receipts).
                continue
    except (OSError, smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError) as error:
        raise SmsNotSent(type(error).__name__) from None
    finally:
        try:
            if client.state == smpplib.consts.SMPP_CLIENT_STATE_BOUND_RX:
                client.unbind()
        except Exception:
            pass
        client.disconnect()
    return receipts


def _text(value: object) -> str:
    return value.decode("ascii", "replace") if isinstance(value, bytes) else str(value or "")
