"""K-Arzt applications: the applicant's pages (secret link, no account) and the staff's review."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from sprechzimmer import ratelimit
from sprechzimmer.duty import applications, documents
from sprechzimmer.duty.access import kv_staff_required
from sprechzimmer.duty.domain.cooperation import ANLAGEN
from sprechzimmer.duty.errors import DutyError
from sprechzimmer.duty.forms import ApplicationFactsForm, ApplicationReviewForm, ApplicationStartForm
from sprechzimmer.duty.models import ApplicationDocument, CooperationApplication
from sprechzimmer.duty.uploads import ApplicationUploadHandler

Status = CooperationApplication.Status


def start(request):
    form = ApplicationStartForm(request.POST or None)
    if request.method == "POST":
        if not ratelimit.allow(request, "coop-start", per_address=(10, 3600)):
            form.add_error(None, "Zu viele neue Anträge von dieser Adresse. Bitte versuchen Sie es später erneut.")
        elif form.is_valid() and (
            existing := applications.open_application(form.cleaned_data["kv"], form.cleaned_data["email"])
        ):
            with transaction.atomic():
                applications.send_new_link(existing, request.build_absolute_uri("/"))
            messages.success(
                request,
                "Für diese E-Mail-Adresse gibt es bei dieser KV schon einen offenen Antrag. Wir haben den persönlichen "
                "Link neu an diese Adresse geschickt; der bisherige gilt nicht mehr.",
            )
            return redirect("coop_start")
        elif form.is_valid():
            data = form.cleaned_data
            with transaction.atomic():
                _, token = applications.start(
                    data["kv"],
                    full_name=data["full_name"],
                    email=data["email"],
                    birth_date=data["birth_date"],
                    base_url=request.build_absolute_uri("/"),
                )
            messages.success(
                request, "Ihr Antrag ist angelegt. Den persönlichen Link haben wir Ihnen auch per E-Mail geschickt."
            )
            return redirect("coop_application", token)
    return render(request, "duty/application_start.html", {"form": form}, status=400 if form.errors else 200)


def _application(token) -> CooperationApplication:
    application = applications.for_token(token)
    if application is None:
        raise Http404
    return application


def _uploads(request) -> list[tuple[str, str, object]]:
    files = []
    for anlage in ANLAGEN:
        for uploaded in request.FILES.getlist(f"file-{anlage}"):
            label = "".join(c for c in request.POST.get(f"label-{anlage}", "") if c.isprintable()).strip()
            files.append((anlage, label, uploaded))
    return files


def _limits() -> dict:
    request_budget = settings.REQUEST_MAX_BYTES - 64 * 1024  # room for the form fields
    return {
        "file": settings.DUTY_DOCUMENT_MAX_BYTES,
        "file_mb": documents.megabytes(settings.DUTY_DOCUMENT_MAX_BYTES),
        "files": settings.DUTY_UPLOAD_FILES_PER_REQUEST,
        "request": request_budget,
    }


def _page(request, application, form, status=200, template="duty/application.html", **extra):
    docs = application.documents.all()
    return render(
        request,
        template,
        {
            "application": application,
            "form": form,
            "docs": docs,
            "limits": _limits(),
            "missing": applications.missing(application),
            "anlagen": ANLAGEN.items(),
            "open": application.is_open,
            # What was typed beside a file (the device of Anlage 6) stays when the page comes back
            # with an error; the files themselves have to be chosen again.
            "typed_devices_label": request.POST.get("label-devices", "") if request.method == "POST" else "",
            **extra,
        },
        status=status,
    )


@csrf_exempt
def application(request, token):
    # Our upload handler must be in place before anything reads the body; Django's CSRF check
    # reads it, so the check runs inside (csrf_protect) instead of in the middleware.
    request.upload_handlers = [ApplicationUploadHandler(request)]
    return _application_view(request, token)


def _upload_budget() -> ratelimit.Backoff:
    """Bytes of documents per client address and hour; beyond it the address waits (with backoff)."""
    return ratelimit.Backoff("coop-upload-bytes", settings.DUTY_UPLOAD_BYTES_PER_HOUR, 3600)


@csrf_protect
def _application_view(request, token):
    app = _application(token)
    if request.method != "POST":
        return _page(request, app, ApplicationFactsForm(instance=app), token=token)
    address = ratelimit.request_key(request)
    if _upload_budget().blocked_for(address):
        messages.error(
            request,
            "Von diesem Internetanschluss wurden in der letzten Stunde sehr viele Dokumente "
            "hochgeladen. Bitte versuchen Sie es später erneut.",
        )
        return redirect("coop_application", token)
    if not app.is_open:
        messages.error(request, "Über diesen Antrag ist bereits entschieden; er lässt sich nicht mehr ändern.")
        return redirect("coop_application", token)
    form = ApplicationFactsForm(request.POST, instance=app)
    if not form.is_valid():
        if any(request.FILES.values()) or request.upload_refusals:
            # The chosen files are not stored either, and a browser does not keep a file choice.
            form.add_error(None, "Es wurde nichts gespeichert, auch keine Datei; bitte wählen Sie die Dateien erneut.")
        return _page(request, app, form, status=400, token=token)
    uploads = _uploads(request)
    received = sum(uploaded.size for _, _, uploaded in uploads)
    if received:
        _upload_budget().failed(address, received)
    try:
        if request.upload_refusals:
            raise documents.DocumentError(" ".join(request.upload_refusals))
        with transaction.atomic():
            form.save()
            stored = applications.add_documents(app, uploads)
            if request.POST.get("submit"):
                applications.submit(app)
    except (documents.DocumentError, DutyError) as error:
        # Nothing is stored; the typed facts stay in the form, the file has to be chosen again.
        form.add_error(None, f"{error} Es wurde nichts gespeichert; bitte wählen Sie die Dateien erneut.")
        app.refresh_from_db()
        return _page(request, app, form, status=400, token=token)
    if request.POST.get("submit"):
        messages.success(request, "Ihr Antrag ist eingereicht. Fehlt noch etwas, steht es oben auf dieser Seite.")
    else:
        messages.success(request, f"Gespeichert ({stored} {'Dokument' if stored == 1 else 'Dokumente'} hochgeladen).")
    return redirect("coop_application", token)


def download_name(doc: ApplicationDocument) -> str:
    """The file name a download gets, from the Anlage's German title: "anlage-2-approbationsurkunde-17.pdf"
    (ASCII, so every browser and mail program keeps it)."""
    title = ANLAGEN.get(doc.anlage, doc.anlage).lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        title = title.replace(umlaut, plain)
    slug = "-".join("".join(c if c.isascii() and c.isalnum() else " " for c in title).split())
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(doc.content_type, "bin")
    return f"{slug}-{doc.pk}.{extension}"


def _download(doc: ApplicationDocument) -> StreamingHttpResponse:
    response = StreamingHttpResponse(applications.read_document(doc), content_type=doc.content_type)
    response["Content-Length"] = str(doc.size)
    response["Content-Disposition"] = f'attachment; filename="{download_name(doc)}"'

    response["Cache-Control"] = "private, no-store"
    return response


def applicant_document(request, token, pk):
    app = _application(token)
    return _download(get_object_or_404(ApplicationDocument, pk=pk, application=app))


@require_POST
def applicant_document_delete(request, token, pk):
    """The applicant removes a wrong upload while the KV has not decided; its encrypted file goes
    with the row (models._delete_document_file)."""
    app = _application(token)
    doc = get_object_or_404(ApplicationDocument, pk=pk, application=app)
    if not app.is_open:
        messages.error(request, "Über diesen Antrag ist bereits entschieden; er lässt sich nicht mehr ändern.")
    else:
        doc.delete()
        messages.success(request, f"„{doc.filename}“ ist entfernt.")
    return redirect("coop_application", token)


# --- staff ---------------------------------------------------------------------------------------


@kv_staff_required
def staff_list(request):
    items = [
        (a, applications.missing(a))
        for a in CooperationApplication.objects.filter(kv=request.kv).prefetch_related("documents")
    ]
    return render(request, "duty/applications.html", {"items": items})


def _staff_application(request, pk) -> CooperationApplication:
    return get_object_or_404(CooperationApplication, pk=pk, kv=request.kv)


@kv_staff_required
def staff_detail(request, pk):
    app = _staff_application(request, pk)
    form = ApplicationReviewForm(request.POST or None, instance=app)
    if request.method == "POST":
        if not app.is_open:
            messages.error(request, "Über diesen Antrag ist bereits entschieden.")
            return redirect("coop_staff_detail", app.pk)
        if form.is_valid():
            form.save()
            messages.success(request, "Gespeichert.")
            return redirect("coop_staff_detail", app.pk)
    return _page(request, app, form, status=400 if form.errors else 200, template="duty/application_review.html")


@kv_staff_required
def staff_document(request, pk, doc_pk):
    app = _staff_application(request, pk)
    return _download(get_object_or_404(ApplicationDocument, pk=doc_pk, application=app))


@kv_staff_required
@require_POST
def staff_decide(request, pk):
    app = _staff_application(request, pk)
    try:
        if request.POST.get("decision") == "approve":
            doctor = applications.approve(app, request.build_absolute_uri("/"))
            messages.success(request, f"Angenommen. LANR {doctor.lanr}; der Zugang wurde per E-Mail verschickt.")
        elif request.POST.get("decision") == "reject":
            applications.reject(app, request.POST.get("reason", ""))
            messages.success(
                request, "Der Antrag ist abgelehnt; die antragstellende Person hat den Grund per E-Mail erhalten."
            )
        else:
            messages.error(request, "Bitte wählen Sie „Annehmen“ oder „Ablehnen“.")
    except DutyError as error:
        messages.error(request, str(error))
    return redirect("coop_staff_detail", app.pk)
