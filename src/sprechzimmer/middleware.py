from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from sprechzimmer.errors import wants_json


class PermissionsPolicyMiddleware:
    """Adds the Permissions-Policy header (Django has no setting for it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class RefuseNullCharactersMiddleware:
    """A NUL character in a query string or a form field answers 400, before the view sees it.

    No person types one; PostgreSQL cannot store one and raises on a query that compares with one
    (a 500 wherever a view passes a raw value on). Django's form fields refuse NUL, but several
    views and allauth's read single values directly. Form bodies (urlencoded and multipart) are
    read here as the CSRF check reads them anyway, except for views exempt from that check: such
    a view may set its own upload handlers, which must happen before the body is read. JSON
    bodies are checked where they are parsed (``inputs.json_object``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        form = (
            request.method == "POST"
            and not getattr(view_func, "csrf_exempt", False)
            and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        )
        if not (_has_null(request.GET) or (form and _has_null(request.POST))):
            return None
        message = "Die Eingabe enthält ein unzulässiges Steuerzeichen. Bitte prüfen Sie sie."
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"error": message}, status=400)
        return render(request, "400.html", {"message": message}, status=400)


def _has_null(params) -> bool:
    return any("\x00" in key or any("\x00" in value for value in params.getlist(key)) for key in params)


METHOD_NOT_ALLOWED = (
    "Diese Seite lässt sich so nicht aufrufen, etwa über ein Lesezeichen oder einen kopierten Link. "
    "Bitte öffnen Sie sie über die Navigation und verwenden Sie die Schaltflächen der Seite."
)


class MethodNotAllowedMiddleware:
    """Django's answer to a method a view does not take (``require_POST``: a bookmarked or typed
    URL of a form's target) is a blank 405. A person gets the German page, a script JSON; the
    Allow header stays. Found by a new user's walk at /dienste/wuensche/."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or getattr(response, "streaming", False) or response.content:
            return response
        if wants_json(request):
            answer = JsonResponse({"error": METHOD_NOT_ALLOWED}, status=405)
        else:
            answer = render(request, "405.html", {"message": METHOD_NOT_ALLOWED}, status=405)
        if response.has_header("Allow"):
            answer["Allow"] = response["Allow"]
        return answer
