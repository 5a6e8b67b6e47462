"""KV-Genehmigung: the practice's KV, what it wants, the documents prefilled, and a checklist.

Every member sees and downloads; the page and the documents only ever show the requesting user's
own practice (no object id in any URL), and the checklist is keyed by document kind."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sprechzimmer.accounts.access import member_required
from sprechzimmer.approval import certificates, documents
from sprechzimmer.approval.directory import DOCUMENT_TITLES
from sprechzimmer.approval.models import ApprovalDocument, OperatorCertificate
from sprechzimmer.approval.progress import kv_of
from sprechzimmer.core import formats
from sprechzimmer.inputs import parse_date


def _kind(kind: str) -> str:
    if kind not in DOCUMENT_TITLES:
        raise Http404
    return kind


def _page(request, status: int = 200, errors: dict | None = None):
    """``errors``: kind → German message; the form of that kind shows what was typed again."""
    practice = request.user.organisation
    kv = kv_of(practice)
    progress = {doc.kind: doc for doc in practice.approval_documents.prefetch_related("certificates")}
    current = certificates.current()
    kinds = kv.document_kinds if kv else list(DOCUMENT_TITLES)
    steps = []
    for kind in kinds:
        done = progress.get(kind) or ApprovalDocument(kind=kind)
        error = (errors or {}).get(kind, "")
        typed = request.POST if error else {}
        steps.append(
            {
                "kind": kind,
                "title": DOCUMENT_TITLES[kind],
                "progress": done,
                "error": error,
                # A sent copy names a certificate that has since been renewed (certificates.py).
                "renewed": [
                    c
                    for c in (done.certificates.all() if done.pk and done.sent_on else [])
                    if c.kind in {n.kind for n in current} and c not in current
                ],
                "sent_value": typed.get("sent_on", done.sent_on.isoformat() if done.sent_on else ""),
                "approved_value": typed.get("approved_on", done.approved_on.isoformat() if done.approved_on else ""),
            }
        )
    context = {
        "kv": kv,
        "steps": steps,
        "doctors": documents.doctors(practice),
        "today": timezone.localdate(),
        "certificates": current,
    }
    return render(request, "approval/page.html", context, status=status)


@member_required
def page(request):
    return _page(request)


@member_required
def document(request, kind: str):
    kind = _kind(kind)
    practice = request.user.organisation
    filename, mimetype, content = documents.render(kind, practice, kv_of(practice))
    record, _ = ApprovalDocument.objects.get_or_create(
        organisation=practice, kind=kind, defaults={"prepared_at": timezone.now()}
    )
    ApprovalDocument.objects.filter(pk=record.pk, prepared_at__isnull=True).update(prepared_at=timezone.now())
    if record.sent_on is None:
        # The certificates this copy names; once sent, it is the sent copy's (certificates.py).
        record.certificates.set(certificates.current())
    response = HttpResponse(content, content_type=mimetype)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@member_required
@require_POST
def progress(request, kind: str):
    """Sent on / approved on, as the practice records them; empty clears a date."""
    kind = _kind(kind)
    today = timezone.localdate()
    dates = {}
    for field in ("sent_on", "approved_on"):
        raw = request.POST.get(field, "").strip()
        day = parse_date(raw) if raw else None
        if raw and day is None:
            return _page(request, 400, {kind: "Bitte geben Sie ein gültiges Datum an (TT.MM.JJJJ)."})
        if day and day > today:
            return _page(request, 400, {kind: f"Das Datum {formats.date(day)} liegt in der Zukunft."})
        dates[field] = day
    if dates["approved_on"] and not dates["sent_on"]:
        return _page(request, 400, {kind: "Bitte tragen Sie zuerst ein, wann Sie das Dokument gesendet haben."})
    if dates["approved_on"] and dates["sent_on"] and dates["approved_on"] < dates["sent_on"]:
        return _page(request, 400, {kind: "Die Genehmigung kann nicht vor dem Versand liegen."})
    ApprovalDocument.objects.update_or_create(organisation=request.user.organisation, kind=kind, defaults=dates)
    messages.success(request, f"{DOCUMENT_TITLES[kind]}: gespeichert.")
    return redirect("approval")


@member_required
def certificate(request, kind: str):
    """The operator's current certificate of ``kind`` as PDF; an expired or missing one is 404."""
    if kind not in OperatorCertificate.Kind.values:
        raise Http404
    found = next((c for c in certificates.current() if c.kind == kind), None)
    if found is None:
        raise Http404
    response = StreamingHttpResponse(certificates.read(found), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{kind}-zertifikat.pdf"'
    return response
