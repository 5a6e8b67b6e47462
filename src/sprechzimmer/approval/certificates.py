"""The operator's certificates under Anlage 31b (A11): upload checks, storage, which are current,
the expiry warning to the operator and the renewal notice to practices.

Uploads: PDF only, recognised by its first bytes and by parsing it with pypdf (a file that merely
starts with ``%PDF-`` is refused), at most MAX_BYTES, not password-protected. Stored like the duty
applications' documents (duty/documents.py): encrypted on disk under DOCUMENTS_DIR in chunks, in
the folder ``certificates/``; the nightly purge_metadata counts these files as referenced.

Renewal notice: which certificates a document named is stored on the ApprovalDocument each time the
practice downloads it until it records a "sent" date (views.document), so the set describes the
copy the practice sent its KV. Comparing dates instead (sent_on against uploaded_at) would guess
wrong for a document downloaded before and sent after an upload. When a new certificate of a kind
is uploaded, the main users of every practice with a sent document that named an older
certificate of that kind get one mail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from sprechzimmer import mail
from sprechzimmer.approval.directory import DOCUMENT_TITLES
from sprechzimmer.approval.models import ApprovalDocument, OperatorCertificate
from sprechzimmer.duty import documents as storage

log = logging.getLogger("sprechzimmer.approval")

MAX_BYTES = 10 * 1024 * 1024
WARN_DAYS = 60
FOLDER = "certificates"


class CertificateError(ValueError):
    """German message for the operator; nothing was stored."""


def check(uploaded) -> None:
    """Raises CertificateError unless ``uploaded`` is a readable PDF of at most MAX_BYTES."""
    from pypdf import PdfReader

    if uploaded.size > MAX_BYTES:
        raise CertificateError(f"Die Datei ist größer als {storage.megabytes(MAX_BYTES)}.")
    if not uploaded.size:
        raise CertificateError("Die Datei ist leer.")
    uploaded.seek(0)
    head = uploaded.read(5)
    uploaded.seek(0)
    if head != b"%PDF-":
        raise CertificateError("Bitte laden Sie das Zertifikat als PDF-Datei hoch.")
    try:
        reader = PdfReader(uploaded)
        if reader.is_encrypted:
            raise CertificateError("Das PDF ist passwortgeschützt; bitte laden Sie es ohne Passwort hoch.")
        pages = len(reader.pages)
    except CertificateError:
        raise
    except Exception:
        raise CertificateError("Die PDF-Datei ist beschädigt und lässt sich nicht lesen.") from None
    finally:
        uploaded.seek(0)
    if pages < 1:
        raise CertificateError("Die PDF-Datei hat keine Seite.")


def store(uploaded, kind: str) -> str:
    return storage.store(uploaded, FOLDER, kind)  # type: ignore[arg-type]  # a folder name, not an application's pk


def read(certificate: OperatorCertificate) -> Iterator[bytes]:
    return storage.read(certificate.stored_name, FOLDER, certificate.kind)  # type: ignore[arg-type]


def current(today: date | None = None) -> list[OperatorCertificate]:
    """Per kind the valid certificate (today within its dates) that became valid last."""
    today = today or timezone.localdate()
    valid = OperatorCertificate.objects.filter(valid_from__lte=today, valid_until__gte=today).order_by(
        "kind", "-valid_from", "-uploaded_at"
    )
    chosen: dict[str, OperatorCertificate] = {}
    for certificate in valid:
        chosen.setdefault(certificate.kind, certificate)
    return [chosen[kind] for kind in OperatorCertificate.Kind.values if kind in chosen]


def warn_expiring(today: date | None = None) -> int:
    """Mails the operator once per certificate from WARN_DAYS days before it expires, unless a
    certificate of the same kind valid for longer is uploaded already; returns how many."""
    today = today or timezone.localdate()
    if not settings.OPERATOR_EMAIL:
        log.warning("OPERATOR_EMAIL is not set; no warning about expiring certificates")
        return 0
    successor = OperatorCertificate.objects.filter(kind=OuterRef("kind"), valid_until__gt=OuterRef("valid_until"))
    due = OperatorCertificate.objects.filter(
        expiry_warned_on__isnull=True, valid_until__gte=today, valid_until__lte=today + timedelta(days=WARN_DAYS)
    ).exclude(Exists(successor))  # the renewal is uploaded already
    sent = 0
    for certificate in due:
        with transaction.atomic():
            # Claimed in the same transaction as the mail is queued: two workers never both send.
            if not OperatorCertificate.objects.filter(pk=certificate.pk, expiry_warned_on__isnull=True).update(
                expiry_warned_on=today
            ):
                continue
            mail.send(
                "certificate_expiring",
                settings.OPERATOR_EMAIL,
                {
                    "certificate": certificate,
                    "kind": certificate.get_kind_display(),
                    "days": (certificate.valid_until - today).days,
                    "link": f"{settings.SITE_URL}{reverse('admin:approval_operatorcertificate_add')}",
                },
            )
            sent += 1
    return sent


def notify_renewal(new: OperatorCertificate) -> int:
    """Mails the main users of each practice whose sent document named an older certificate of
    ``new``'s kind; returns the number of practices mailed."""
    # A certificate added for the record that ends before one already there renews nothing.
    older = OperatorCertificate.objects.filter(kind=new.kind, valid_until__lt=new.valid_until).exclude(pk=new.pk)
    sent_documents = (
        ApprovalDocument.objects.filter(sent_on__isnull=False, certificates__in=older)
        .select_related("organisation")
        .distinct()
    )
    by_practice: dict[int, list[ApprovalDocument]] = {}
    for document in sent_documents:
        by_practice.setdefault(document.organisation_id, []).append(document)
    link, mailed = f"{settings.SITE_URL}{reverse('approval')}", 0
    for documents in by_practice.values():
        practice = documents[0].organisation
        main_users = list(practice.members.filter(is_active=True, is_main_user=True).values_list("email", flat=True))
        if not main_users:
            continue
        old_numbers = sorted({c.number for d in documents for c in d.certificates.all() if c.kind == new.kind})
        mail.send(
            "certificate_renewed",
            main_users,
            {
                "practice": practice,
                "kind": new.get_kind_display(),
                "certificate": new,
                "old_numbers": ", ".join(old_numbers),
                "titles": [DOCUMENT_TITLES.get(d.kind, d.kind) for d in sorted(documents, key=lambda d: d.kind)],
                "link": link,
            },
        )
        mailed += 1
    return mailed
