"""K-Arzt applications: start, documents, submit, review, approve (LANR, login) and reject.

The applicant has no account: a secret link opens the application (token as SHA-256 digest in the
database). Approval makes the KV's agreement signature, assigns the LANR (K status on an existing
one, else a new unique one), creates the login without a password and mails a link to set it;
the browser then derives the keys as on every password reset (docs/e2ee.md).
"""

from __future__ import annotations

import secrets

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from sprechzimmer import mail
from sprechzimmer.accounts.domain import IdentifierError, parse_lanr
from sprechzimmer.accounts.models import User, token_digest
from sprechzimmer.core import formats
from sprechzimmer.duty import documents
from sprechzimmer.duty.domain import cooperation
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.models import ApplicationDocument, CooperationApplication, DutyDoctor

Status = CooperationApplication.Status


def start(kv, *, full_name: str, email: str, birth_date, base_url: str) -> tuple[CooperationApplication, str]:
    token = secrets.token_urlsafe(32)
    application = CooperationApplication.objects.create(
        kv=kv, token_hash=token_digest(token), full_name=full_name, email=email.lower(), birth_date=birth_date
    )
    _mail_link(application, token, base_url)
    return application, token


def open_application(kv, email: str) -> CooperationApplication | None:
    """The applicant's application at this KV that is not decided yet, if any."""
    return CooperationApplication.objects.filter(
        kv=kv, email__iexact=email.strip(), status__in=CooperationApplication.OPEN
    ).first()


def send_new_link(application: CooperationApplication, base_url: str) -> None:
    """Someone starts an application again for an address with an open one: no second application;
    a new link goes to that address (only the hash of a link is stored, so the old one cannot be
    sent again, and it stops working). Whoever typed the address learns nothing more than the page
    of a new application would tell them."""
    token = secrets.token_urlsafe(32)
    application.token_hash = token_digest(token)
    application.save(update_fields=["token_hash"])
    _mail_link(application, token, base_url, again=True)


def _mail_link(application: CooperationApplication, token: str, base_url: str, again: bool = False) -> None:
    """The applicant's personal link, by mail (the only place it is ever shown in full)."""
    link = base_url.rstrip("/") + reverse("coop_application", args=[token])
    context = {"full_name": application.full_name, "kv_name": application.kv.name, "link": link, "again": again}
    mail.send("coop_started", application.email, context)


def for_token(token: str) -> CooperationApplication | None:
    if not token or len(token) > 100:
        return None
    return CooperationApplication.objects.filter(token_hash=token_digest(token)).select_related("kv").first()


def as_domain(app: CooperationApplication, documents_of=None) -> cooperation.Application:
    """The application as the document rules see it: a document counts once it is uploaded and its
    facts (dates, certified copy, amounts) are given. ``documents_of``: its documents, when the
    caller has read them already."""
    uploaded = {}
    for doc in app.documents.all() if documents_of is None else documents_of:
        uploaded.setdefault(doc.anlage, []).append(doc)

    def certificate(anlage, issued, certified):
        return cooperation.Certificate(issued, certified_copy=certified) if anlage in uploaded and issued else None

    police = None
    if "police" in uploaded and app.police_issued:
        police = cooperation.Certificate(
            app.police_issued, original=app.police_type_n_original, kind="N" if app.police_type_n_original else ""
        )
    has_liability = "liability" in uploaded
    return cooperation.Application(
        birth_date=app.birth_date,
        former_pool_doctor=app.former_pool_doctor,
        changed_since_pool=frozenset(app.changed_since_pool),
        measles_proof="measles" in uploaded,
        approbation=certificate("approbation", app.approbation_issued, app.approbation_certified),
        specialist=certificate("specialist", app.specialist_issued, app.specialist_certified),
        last_training_year=app.last_training_year,
        clinical_months=app.clinical_months,
        police=police,
        liability_personal=app.liability_personal if has_liability else None,
        liability_property=app.liability_property if has_liability else None,
        device_proofs=frozenset(d.label for d in uploaded.get("devices", []) if d.label),
        declaration="declaration" in uploaded,
        questionnaire="questionnaire" in uploaded,
        agreement_copies_received=app.agreement_copies_received,
    )


#: Anlage -> the facts the page asks for beside its document, and how the page names them: a
#: document counts only with them (as_domain), so an uploaded one without them is not "missing".
FACTS_OF = {
    "approbation": (("approbation_issued",), "das Datum der Beglaubigung"),
    "specialist": (("specialist_issued",), "das Datum der Beglaubigung"),
    "police": (("police_issued",), "das Ausstellungsdatum"),
    "liability": (("liability_personal", "liability_property"), "beide Deckungssummen"),
}


def missing(app: CooperationApplication) -> list[cooperation.Missing]:
    """What keeps the application from being complete; for a document that is uploaded but whose
    facts are not given yet, says so (a new user's walk read "Die Approbationsurkunde fehlt" right
    after uploading it)."""
    documents_of = list(app.documents.all())
    found = cooperation.missing_documents(as_domain(app, documents_of), timezone.localdate())
    uploaded = {doc.anlage for doc in documents_of}
    result = []
    for item in found:
        facts = FACTS_OF.get(item.anlage)
        if facts and item.anlage in uploaded and any(getattr(app, name) is None for name in facts[0]):
            item = cooperation.Missing(
                item.anlage, f"Das Dokument ist hochgeladen; bitte geben Sie oben noch {facts[1]} an."
            )
        result.append(item)
    return result


def add_documents(app: CooperationApplication, files: list[tuple[str, str, object]]) -> int:
    """Stores (anlage, label, uploaded file) after every file passed the checks; one bad file and
    none is stored (DocumentError names it). Files are encrypted to disk in chunks (documents.py)."""
    if not app.is_open:
        raise DutyError("Über diesen Antrag ist bereits entschieden.")
    checked = []
    for anlage, label, uploaded in files:
        if anlage not in cooperation.ANLAGEN:
            raise documents.DocumentError("Unbekannte Anlage.")
        checked.append((anlage, label, uploaded, documents.check(uploaded)))
    if not checked:
        return 0
    with transaction.atomic():
        # Locked, so that two requests at once cannot both stay under the limits.
        CooperationApplication.objects.select_for_update().get(pk=app.pk)
        held = app.documents.aggregate(count=Count("pk"), size=Sum("size"))
        count, size = held["count"] + len(checked), (held["size"] or 0) + sum(u.size for _, _, u, _ in checked)
        if count > settings.DUTY_APPLICATION_MAX_FILES:
            raise documents.DocumentError(
                f"Ein Antrag kann höchstens {settings.DUTY_APPLICATION_MAX_FILES} Dokumente haben; es wären {count}. "
                "Bitte fassen Sie mehrseitige Nachweise in einem PDF zusammen."
            )
        if size > settings.DUTY_APPLICATION_MAX_BYTES:
            raise documents.DocumentError(
                f"Die Dokumente eines Antrags dürfen zusammen höchstens "
                f"{documents.megabytes(settings.DUTY_APPLICATION_MAX_BYTES)} groß sein."
            )
        written = []
        try:
            for anlage, label, uploaded, content_type in checked:
                stored = documents.store(uploaded, app.pk, anlage)
                written.append(stored)
                ApplicationDocument.objects.create(
                    application=app,
                    anlage=anlage,
                    label=label[:200],
                    filename=uploaded.name[:200],
                    content_type=content_type,
                    size=uploaded.size,
                    stored_name=stored,
                )
        except BaseException:
            for stored in written:
                documents.delete(stored)
            raise
    return len(checked)


def read_document(doc: ApplicationDocument):
    """The document's bytes as an iterator of verified chunks."""
    return documents.read(doc.stored_name, doc.application_id, doc.anlage)


def submit(app: CooperationApplication) -> None:
    if app.status == Status.DRAFT:
        app.status, app.submitted_at = Status.SUBMITTED, timezone.now()
        app.save(update_fields=["status", "submitted_at"])


def _lanr_for(app: CooperationApplication) -> str:
    if app.existing_lanr:
        try:
            return cooperation.k_status_lanr(parse_lanr(app.existing_lanr).value, settings.DUTY_K_STATUS_CODE)
        except (IdentifierError, cooperation.LanrError) as error:
            raise DutyError(f"Die angegebene LANR ist nicht gültig: {error}") from error
    return cooperation.new_lanr(
        lambda doctor: User.objects.filter(lanr__startswith=doctor).exists(), settings.DUTY_K_STATUS_CODE
    )


def approve(app: CooperationApplication, base_url: str) -> DutyDoctor:
    """KVBW signs the agreement → LANR → login (activated by a link to set the password)."""
    with transaction.atomic():
        app = CooperationApplication.objects.select_for_update().get(pk=app.pk)
        if app.status != Status.SUBMITTED:
            raise DutyError("Nur eingereichte Anträge können angenommen werden.")
        gaps = missing(app)
        if gaps:
            raise DutyError("Der Antrag ist unvollständig: " + "; ".join(m.title for m in gaps) + ".")
        if User.objects.filter(email__iexact=app.email).exists():
            raise DutyError(
                "Unter dieser E-Mail-Adresse gibt es schon einen Zugang; Vertragsärzte übernehmen "
                "Dienste über ihren eigenen Zugang."
            )
        lanr = _lanr_for(app)
        user = User.objects.create_user(app.email, None, full_name=app.full_name, role=User.Role.DOCTOR, lanr=lanr)
        EmailAddress.objects.create(user=user, email=app.email, verified=True, primary=True)
        doctor = DutyDoctor.objects.create(kv=app.kv, user=user, kind=DutyDoctor.Kind.COOPERATING)
        app.status, app.decided_at, app.doctor = Status.APPROVED, timezone.now(), doctor
        app.save(update_fields=["status", "decided_at", "doctor"])
        link = base_url.rstrip("/") + reverse(
            "account_reset_password_from_key",
            kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
        )
        mail.send(
            "coop_approved", app.email, {"full_name": app.full_name, "kv_name": app.kv.name, "lanr": lanr, "link": link}
        )
    return doctor


MAX_REASON = 2000


def reject(app: CooperationApplication, reason: str) -> None:
    """The KV rejects the application, with the reason the applicant is told by mail (approving
    mails them too; a rejection without a word left them waiting, found by a new user's walk)."""
    reason = reason.strip()
    if not reason:
        raise DutyError("Bitte geben Sie den Grund der Ablehnung an; er geht per E-Mail an die antragstellende Person.")
    if len(reason) > MAX_REASON:
        raise DutyError(f"Der Grund darf höchstens {formats.number(MAX_REASON)} Zeichen lang sein.")
    if app.status in (Status.APPROVED, Status.REJECTED):
        raise DutyError("Über diesen Antrag ist bereits entschieden.")
    app.status, app.decided_at, app.rejection_reason = Status.REJECTED, timezone.now(), reason
    app.save(update_fields=["status", "decided_at", "rejection_reason"])
    mail.send("coop_rejected", app.email, {"full_name": app.full_name, "kv_name": app.kv.name, "reason": reason})
