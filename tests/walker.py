"""Walks every URL pattern of the project with malformed input, for every role (issue 11, item 14).

The patterns come from the URL configuration itself (``get_resolver()``, allauth's included
patterns too), so a new view is walked without anyone adding it here. For each role and pattern
the walker sends:

- path values: zero, huge and non-existing numbers, negative numbers, markup, long strings, and
  the ids of real objects of the right model — the role's own and other practices'/KVs'. Which
  model a path parameter names is found out, not listed: the walker sends a sentinel number and
  reads the SQL the view ran (``"duty_plan"."id" = 7654321`` names the plan table);
- query values: every name the view (and the module's functions it calls) reads from
  ``request.GET``, one at a time, with bad dates, huge numbers, non-digits, NUL and markup;
- bodies: POST forms (the field names of the page's forms and those the view reads), file uploads,
  and where the module reads JSON: JSON of wrong types (strings for ids, objects, lists, 1e400,
  null …), malformed JSON, PATCH and PUT; DELETE;
- every form the role's pages showed (harvested from the HTML of the walk), once as the page
  filled it (empty fields typed as a person would) and then with each field in turn malformed
  while the others keep their values, so a view gets past the fields it checks first.

The query and body matrix leaves out a method the view already refused (405) on that path: the
method is decided before any input is read, so other input would get the same answer.

Every request runs in a savepoint that is rolled back afterwards and with the cookies of the role's
login, so no request changes what the next one sees (a POST to "abmelden" does not end the walk).

Every response passes through ``RESPONSE_CHECKS``: no server error, and no marker of another
practice's or KV's objects in the body. Other tests add checks with ``@response_check``.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
import inspect
import itertools
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone

from tests.test_language import INFORMAL

# --- what is checked on every response ------------------------------------------------------------


@dataclass
class Probe:
    """One request of the walk and who sent it."""

    role: str
    method: str
    path: str
    body: str = ""
    #: markers of objects this role must never see (other practices', other KVs')
    foreign_markers: tuple[str, ...] = ()

    def __str__(self) -> str:
        body = f" {self.body[:120]!r}" if self.body else ""
        return f"[{self.role}] {self.method} {self.path}{body}"


#: A check gets the probe, the response and its decoded text; it returns a problem or None.
Check = Callable[[Probe, object, str], "str | None"]
RESPONSE_CHECKS: list[Check] = []


def response_check(check: Check) -> Check:
    """Adds a check that every response of the walk must pass."""
    RESPONSE_CHECKS.append(check)
    return check


@response_check
def no_server_error(probe: Probe, response, text: str) -> str | None:
    if response.status_code >= 500:
        return f"status {response.status_code}"
    return None


@response_check
def no_blank_refusal(probe: Probe, response, text: str) -> str | None:
    """A refusal says why, in German (a page or JSON): Django's own 405 is blank, which a person
    who opened a form's target from a bookmark saw as an empty page (a new user's walk)."""
    if response.status_code >= 400 and not getattr(response, "streaming", False) and not response.content.strip():
        return f"status {response.status_code} with an empty body"
    return None


@response_check
def no_foreign_object(probe: Probe, response, text: str) -> str | None:
    seen = [marker for marker in probe.foreign_markers if marker in text]
    return f"shows objects of another practice/KV: {seen}" if seen else None


_PASSWORD_INPUT = re.compile(r"<input\b[^>]*\btype=[\"']?password[^>]*>", re.I)


@response_check
def no_named_password_input(probe: Probe, response, text: str) -> str | None:
    """A typed password must never be a form value (docs/e2ee.md): its input has no name."""
    named = [tag for tag in _PASSWORD_INPUT.findall(text) if re.search(r"\bname=", tag)]
    return f"password input with a name: {named[0]}" if named else None


_NOT_TEXT = re.compile(r"<(script|style)\b.*?</\1>|<[^>]*>", re.S | re.I)


@response_check
def formal_german(probe: Probe, response, text: str) -> str | None:
    """The UI says "Sie" (allauth's German translation says "du" in places: found on its password
    reset page by a new user's walk) and offers "Bitte wählen", not Django's "---------". Visible
    text of HTML pages only."""
    if "text/html" not in response.get("Content-Type", ""):
        return None
    visible = _NOT_TEXT.sub(" ", text)
    if "---------" in visible:  # Django's default empty choice of a select
        return "a select offers '---------' (empty_label 'Bitte wählen')"
    found = INFORMAL.search(visible)
    return f"informal German: {found.group(0)!r}" if found else None


def response_text(response) -> str:
    """The body as text, PDFs by their text operators (a name in a PDF is compressed otherwise)."""
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        digest = hashlib.sha256(content).digest()
        if digest not in _PDF_TEXTS:
            from tests.duty.helpers import pdf_text

            _PDF_TEXTS[digest] = pdf_text(content)
        return _PDF_TEXTS[digest]
    return content.decode("utf-8", "replace")


#: The same PDF (the guides, served again for every query string a role sends) is read once:
#: Python's ASCII85 decoder took 1,4 % of a walk (py-spy, 2.12.2026).
_PDF_TEXTS: dict[bytes, str] = {}


# --- malformed values ----------------------------------------------------------------------------

HUGE = "99999999999999999999"  # beyond any integer column
BAD_SCALARS = [
    "",
    "abc",
    "-1",
    HUGE,
    "1e400",
    "2026-02-30",
    "9999-12-31",
    "1900-01-01",
    "2026-01-01T10:00:00+99:00",
    "<script>alert('walk')</script>",
    "\x00",
    "ä" * 300,
]
# JSON values of wrong types, as raw text (1e400 is not representable once parsed by Python)
BAD_JSON = [
    '"abc"',
    "{}",
    "[]",
    "1e400",
    "-1",
    "null",
    "true",
    HUGE,
    '"9999-12-31T10:00:00"',
    '"2026-01-01T10:00:00+99:00"',
    '"\\u0000"',
    '{"id": 1}',
]
RAW_BODIES = ["kein json", "[]", "null", '{"a":', "1e400", '"\\ud800"', "\xff\xfe"]
INT_SPECIALS = ["0", "1", "12", "13", "999999", HUGE, str(2**63), "-1"]
STR_SPECIALS = ["abc", "practice-note", "x" * 300, "<script>alert('walk')</script>", "0", "%00", "ÄÖÜ", "-1"]
SENTINEL = 7654321

# request.GET.get("x"), request.GET["x"], inputs.query_date(request.GET, "x")
_GET_NAMES = re.compile(r"""GET(?:\.get|\.getlist)?(?:\(|\[|,)\s*["'](\w+)["']""")
_POST_NAMES = re.compile(r"""POST(?:\.get|\.getlist)?(?:\(|\[)\s*["'](\w+)["']""")
_FILE_NAMES = re.compile(r"""FILES(?:\.get|\.getlist)?(?:\(|\[)\s*["'](\w+)["']""")
_JSON_NAMES = re.compile(r"""(?:data|body|content|payload)(?:\.get\(|\[)\s*["'](\w+)["']""")
_FORM_NAMES = re.compile(r"""<(?:input|select|textarea)\b[^>]*\bname=["']([^"']+)["']""")
_FILE_INPUTS = re.compile(
    r"""<input\b[^>]*type=["']file["'][^>]*\bname=["']([^"']+)["']|"""
    r"""<input\b[^>]*\bname=["']([^"']+)["'][^>]*type=["']file["']"""
)


# --- the forms on the pages -----------------------------------------------------------------------


@dataclass
class Form:
    """A form a page offers: where it goes and the values the page filled in."""

    action: str
    method: str
    fields: dict[str, list[str]]  # name → values as the browser would send them
    files: list[str]


class _FormParser(HTMLParser):
    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path, self.forms, self.form, self.select, self.textarea = page_path, [], None, None, None
        self.chosen = False

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = a.get("action") or self.page_path
            self.form = Form(action.split("?")[0].split("#")[0], a.get("method", "get").upper(), {}, [])
            self.forms.append(self.form)
        elif self.form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "file":
                self.form.files.append(a["name"])
            elif kind in ("checkbox", "radio"):
                values = self.form.fields.setdefault(a["name"], [])
                if "checked" in a:
                    values.append(a.get("value", "on"))
            elif kind not in ("submit", "button", "image", "reset"):
                self.form.fields.setdefault(a["name"], []).append(a.get("value") or _typed(kind, a))
        elif tag == "select":
            self.select = a["name"]
            self.form.fields.setdefault(a["name"], [])
            self.chosen = False
        elif tag == "option" and self.select:
            # As a person would: the selected option, else the first real one (not "---------").
            value = a.get("value", "")
            if "selected" in a or (not self.chosen and value):
                self.form.fields[self.select] = [value]
                self.chosen = self.chosen or "selected" in a
        elif tag == "textarea":
            self.textarea = a["name"]
            self.form.fields[a["name"]] = [""]
        elif tag == "button" and a.get("value"):
            self.form.fields.setdefault(a["name"], [a["value"]])

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            if self.form is not None and self.textarea and not self.form.fields[self.textarea][0]:
                self.form.fields[self.textarea] = ["Walk"]
            self.textarea = None

    def handle_data(self, data):
        if self.form is not None and self.textarea:
            self.form.fields[self.textarea] = [self.form.fields[self.textarea][0] + data]


def _typed(kind: str, attrs: dict) -> str:
    """What a person would type into an empty field, so that a form can be complete."""
    if kind == "hidden":
        return ""
    if kind == "date":
        return (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    if kind == "time":
        return "10:00"
    if kind == "number":
        return attrs.get("min") or "1"
    if kind == "email":
        return "walk@example.org"
    return "Walk"


def page_forms(page_path: str, html: str) -> list[Form]:
    parser = _FormParser(page_path)
    parser.feed(html)
    return parser.forms


# --- the URL configuration -----------------------------------------------------------------------


@dataclass
class Pattern:
    """One view's URL pattern with its parameters (name → kind: int, str, regex)."""

    route: str
    name: str | None
    callback: object
    params: dict[str, str]
    parts: list  # literal strings and ("param", name) placeholders

    def path(self, values: dict[str, str]) -> str:
        return "/" + "".join(part if isinstance(part, str) else values[part[1]] for part in self.parts)

    @property
    def module_source(self) -> str:
        view = getattr(self.callback, "view_class", None) or inspect.unwrap(self.callback)
        module = inspect.getmodule(view)
        try:
            return inspect.getsource(module) if module else ""
        except (OSError, TypeError):
            return ""

    @property
    def view_source(self) -> str:
        """The view function's source with the module's functions it calls (one level); for a
        class-based view (allauth's) its module."""
        if hasattr(self.callback, "view_class"):
            return self.module_source
        view = inspect.unwrap(self.callback)
        module = inspect.getmodule(view)
        try:
            source = inspect.getsource(view)
        except (OSError, TypeError):
            return self.module_source
        for name in set(re.findall(r"\b(\w+)\(", source)):
            helper = getattr(module, name, None)
            if inspect.isfunction(helper) and helper.__module__ == module.__name__ and helper is not view:
                source += inspect.getsource(inspect.unwrap(helper))
        return source


_ROUTE_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)")


def _split(text: str, regex: bool) -> tuple[list, dict[str, str]]:
    parts, params, position = [], {}, 0
    if regex:
        text = text.lstrip("^").rstrip("$")
        for match in _REGEX_PARAM.finditer(text):
            parts.append(text[position : match.start()])
            params[match.group(1)] = "int" if match.group(2) in (r"\d+", "[0-9]+") else "str"
            parts.append(("param", match.group(1)))
            position = match.end()
    else:
        for match in _ROUTE_PARAM.finditer(text):
            parts.append(text[position : match.start()])
            converter = match.group(1) or "str"
            params[match.group(2)] = "int" if converter in ("int", "id") else "str"
            parts.append(("param", match.group(2)))
            position = match.end()
    parts.append(text[position:])
    return [p for p in parts if p != ""], params


def url_patterns(resolver=None, prefix: list | None = None, params: dict | None = None) -> Iterator[Pattern]:
    """Every view pattern of the project, included ones (allauth's) with their prefix."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        own_parts, own_params = _split(str(entry.pattern), isinstance(entry.pattern, RegexPattern))
        parts, all_params = (prefix or []) + own_parts, (params or {}) | own_params
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry, parts, all_params)
        elif isinstance(entry, URLPattern):
            assert isinstance(entry.pattern, (RegexPattern, RoutePattern))
            yield Pattern(
                "".join(p if isinstance(p, str) else f"<{p[1]}>" for p in parts),
                entry.name,
                entry.callback,
                all_params,
                parts,
            )


# --- the walk ------------------------------------------------------------------------------------


@dataclass
class Role:
    name: str
    client: Client
    #: markers this role must never see
    foreign_markers: tuple[str, ...]
    #: real values for string path parameters this role holds (an applicant's secret link)
    path_values: dict[str, list[str]] = field(default_factory=dict)
    #: the login's cookies, put back after a response changed them
    cookies: SimpleCookie = field(init=False)

    def __post_init__(self) -> None:
        self.cookies = copy.deepcopy(self.client.cookies)


class _Recorder:
    """A database execute wrapper: one entry per query, the SQL with its values where ``keep_sql``
    (to find out which model a path parameter names), else the bare SQL (only counted)."""

    def __init__(self, queries: list[str], keep_sql: bool):
        self.queries, self.keep_sql = queries, keep_sql

    def __call__(self, execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        finally:
            if self.keep_sql and not many:  # with its values, as the database ran it
                self.queries.append(connection.ops.last_executed_query(context["cursor"], sql, params))
            else:
                self.queries.append(sql)


@dataclass
class Walk:
    """Walks patterns for roles; ``failures`` collects every failed check (with the probe)."""

    #: model → pks of real objects the walk puts into path parameters (own and foreign)
    objects: dict[type, list[int]]
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    seconds_by_pattern: dict[str, float] = field(default_factory=dict)
    #: the forms the role's pages offered, one per target URL pattern (first seen)
    forms: dict[str, Form] = field(default_factory=dict)
    #: route → which model each path parameter named (as discovered)
    models: dict[str, dict[str, type]] = field(default_factory=dict)
    #: path → database queries of its page (a GET without query string that answered with HTML)
    page_queries: dict[str, int] = field(default_factory=dict)

    def send(
        self,
        role: Role,
        method: str,
        path: str,
        *,
        query: dict | None = None,
        data=None,
        content_type: str | None = None,
        capture: bool = False,
    ) -> tuple[object | None, list[str]]:
        """One request in a savepoint with the role's login cookies; runs the response checks."""
        client = role.client
        body_text = ""
        if isinstance(data, (str, bytes)):
            body_text = data if isinstance(data, str) else data.decode("latin-1")
        elif data:
            body_text = "&".join(f"{k}={str(v)[:20]}" for k, v in data.items())
        shown = path + ("?" + "&".join(f"{k}={v[:30]}" for k, v in query.items()) if query else "")
        probe = Probe(role.name, method, shown, body_text, role.foreign_markers)
        cache.clear()  # rate limits: every request is the first of its kind
        savepoint = transaction.savepoint()
        # The SQL text only where a view's models are being found out, the count only for a page
        # (a GET without query string: ``page_queries``); other requests are not recorded (the
        # recorder was 7 % of a walk, py-spy 2.12.2026).
        queries: list[str] = []
        record = capture or (method == "GET" and not query)
        response = None
        try:
            with connection.execute_wrapper(_Recorder(queries, capture)) if record else contextlib.nullcontext():
                if method == "GET":
                    response = client.get(path, query or {})
                elif method == "POST" and content_type is None:
                    response = client.post(path, data or {})
                else:
                    response = client.generic(
                        method, path, data=data or "", content_type=content_type or "application/octet-stream"
                    )
            self.requests += 1
            text = response_text(response)
            if method == "GET" and response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
                self._collect_forms(path, text)
                if not query:
                    self.page_queries[path] = len(queries)
            for check in RESPONSE_CHECKS:
                problem = check(probe, response, text)
                if problem:
                    self.failures.append(f"{probe}: {problem}")
        except Exception as error:  # a view that raises is a 500 in production
            first_line = str(error).splitlines()[0] if str(error) else ""
            self.failures.append(f"{probe}: raised {type(error).__name__}: {first_line[:200]}")
        finally:
            transaction.savepoint_rollback(savepoint)
            # The role's login cookies for the next request: a response may have ended or changed
            # the session ("abmelden"); copied only then, as copying on every request costs.
            if response is None or response.cookies:
                client.cookies = copy.deepcopy(role.cookies)
        return response, (queries if capture else [])

    def _collect_forms(self, page_path: str, html: str) -> None:
        for form in page_forms(page_path, html):
            try:
                match = resolve(form.action)
            except Resolver404:
                continue
            if form.method in ("GET", "POST"):  # method="dialog" forms never leave the page
                self.forms.setdefault(f"{form.method} {match.route}", form)

    def walk_forms(self, role: Role) -> None:
        """Every form the role's pages offered, sent as the page filled it, then with each field in
        turn malformed while the others keep the page's values (so the view gets past the fields it
        checks first)."""
        for key, form in sorted(self.forms.items()):
            started = time.monotonic()
            base = {name: values for name, values in form.fields.items() if name != "csrfmiddlewaretoken"}
            files = {name: SimpleUploadedFile("walk.pdf", b"%PDF-1.4 walk") for name in form.files}
            self._send_form(role, form, base, files)
            for name in base:
                for value in BAD_SCALARS:
                    self._send_form(role, form, base | {name: [value]}, {})
            self.seconds_by_pattern[f"{role.name} form {key}"] = time.monotonic() - started

    def _send_form(self, role: Role, form: Form, fields: dict[str, list[str]], files: dict) -> None:
        if form.method == "GET":
            self.send(role, "GET", form.action, query={k: v[0] for k, v in fields.items() if v})
        else:
            self.send(role, "POST", form.action, data={**{k: v for k, v in fields.items() if v}, **files})

    # -- which model a path parameter names --------------------------------------------------------

    def _tables(self) -> dict[str, type]:
        return {model._meta.db_table: model for model in self.objects}

    def discover(self, role: Role, pattern: Pattern) -> dict[str, type]:
        """Path parameter → model, read from the SQL the view runs for a sentinel value."""
        ints = [name for name, kind in pattern.params.items() if kind == "int"]
        known: dict[str, type] = {}
        tables = self._tables()
        for _ in range(len(ints)):
            unknown = [name for name in ints if name not in known]
            if not unknown:
                break
            sentinels = {name: str(SENTINEL + i) for i, name in enumerate(unknown)}
            found = False
            bases = list(itertools.islice(itertools.product(*[self.objects[known[n]] for n in known]), 12)) or [()]
            for base in bases:
                values = dict(zip(known, map(str, base), strict=True)) | sentinels
                values |= {
                    n: (role.path_values.get(n) or ["abc"])[0] for n, kind in pattern.params.items() if kind == "str"
                }
                for method in ("GET", "POST"):
                    _, queries = self.send(role, method, pattern.path(values), capture=True)
                    for name, sentinel in sentinels.items():
                        for sql in queries:
                            match = re.search(r'"(\w+)"\."(\w+)" = ' + sentinel + r"\b", sql)
                            if match and name not in known:
                                model = _model_of(tables, match.group(1), match.group(2))
                                if model is not None:
                                    known[name] = model
                                    found = True
                if found:
                    break
            if not found:
                break
        return known

    # -- one pattern for one role -----------------------------------------------------------------

    def path_variants(self, role: Role, pattern: Pattern, models: dict[str, type]) -> list[dict[str, str]]:
        """The base values (first), then each parameter varied on its own, then every combination of
        real objects for parameters that name models (an own plan with another KV's duty …)."""
        today = timezone.localdate()
        pools: dict[str, list[str]] = {}
        for name, kind in pattern.params.items():
            if name in models:
                pools[name] = [str(pk) for pk in self.objects[models[name]]] + INT_SPECIALS
            elif kind == "int":
                base = str(today.year) if "year" in name else str(today.month) if name in ("month", "number") else "1"
                pools[name] = [base] + [v for v in INT_SPECIALS if v != base] + ["1900", "9999"]
            else:
                pools[name] = role.path_values.get(name, []) + STR_SPECIALS
        base = {name: pool[0] for name, pool in pools.items()}
        variants = [base]
        for name, pool in pools.items():
            variants += [base | {name: value} for value in pool[1:]]
        modelled = [name for name in pattern.params if name in models]
        if len(modelled) > 1:
            combos = itertools.product(*[[str(pk) for pk in self.objects[models[n]]] for n in modelled])
            variants += [base | dict(zip(modelled, combo, strict=True)) for combo in itertools.islice(combos, 60)]
        unique, seen = [], set()
        for values in variants:
            key = tuple(sorted(values.items()))
            if key not in seen:
                seen.add(key)
                unique.append(values)
        return unique

    def walk_pattern(self, role: Role, pattern: Pattern) -> None:
        started = time.monotonic()
        models = self.discover(role, pattern) if any(k == "int" for k in pattern.params.values()) else {}
        self.models[pattern.route] = models
        variants = self.path_variants(role, pattern, models)
        reached_paths = []
        for values in variants:
            path = pattern.path(values)
            got, _ = self.send(role, "GET", path)
            posted, _ = self.send(role, "POST", path)
            if _reached(got) or _reached(posted):
                reached_paths.append(
                    (path, got, {m for m, r in (("GET", got), ("POST", posted)) if _method_refused(r)})
                )
        # The body and query matrix where the view is reached: the first real object of each model
        # the role may use (or the base values), since that is where input gets parsed.
        for path, got, refused in reached_paths[:2]:
            self.walk_inputs(role, path, got, pattern, refused)
        self.seconds_by_pattern[f"{role.name} {pattern.route}"] = time.monotonic() - started

    def walk_inputs(self, role: Role, path: str, got, pattern: Pattern, refused: set[str]) -> None:
        """The query, form, file and JSON matrix on a path the role reached. A method the view
        refused (405) is not sent again: every view here decides on the method before it reads
        the query or body (Django's ``require_http_methods``, ``View.dispatch``, and the views'
        own ``request.method`` checks, which come first), so other input gets the same answer.
        Most of what this skips is ``PATCH``/``PUT`` to views that take neither (measured on the main
        user's walk before GET and POST were included: 10 550 -> 9 074 requests)."""

        def send(method: str, **kwargs) -> None:
            if method not in refused:
                response, _ = self.send(role, method, path, **kwargs)
                if _method_refused(response):
                    refused.add(method)

        source, module = pattern.view_source, pattern.module_source
        get_names = set(_GET_NAMES.findall(source)) | ({"next"} if '"next"' in module else set())
        for name in sorted(get_names):
            for value in BAD_SCALARS:
                send("GET", query={name: value})
        page = response_text(got) if got is not None and got.status_code == 200 else ""
        fields = set(_FORM_NAMES.findall(page)) | set(_POST_NAMES.findall(source)) | set(_JSON_NAMES.findall(source))
        fields -= {"csrfmiddlewaretoken"}
        for value in BAD_SCALARS:
            send("POST", data={name: value for name in sorted(fields)})
        files = {a or b for a, b in _FILE_INPUTS.findall(page)} | set(_FILE_NAMES.findall(source))
        if files:
            for value, content in (("abc", b"%PDF-1.4 walk"), ("\x00", b"\x00" * 64), ("ä" * 300, b"")):
                data = {name: value for name in sorted(fields)}
                data |= {name: SimpleUploadedFile("walk.pdf", content) for name in sorted(files)}
                send("POST", data=data)
        if not any(reader in module for reader in ("json_body", "request.body", "json.loads")):
            send("PUT", data="{}", content_type="application/json")
            send("DELETE")
            return
        keys = sorted(set(_JSON_NAMES.findall(source)) | set(_POST_NAMES.findall(source))) or ["id"]
        bodies = ["{" + ", ".join(f'"{key}": {value}' for key in keys) + "}" for value in BAD_JSON]
        bodies += [raw.encode("utf-8", "surrogatepass") for raw in RAW_BODIES]
        for method in ("POST", "PATCH", "PUT"):
            for body in bodies:
                send(method, data=body, content_type="application/json")
        send("DELETE")


@contextlib.contextmanager
def unrecorded_templates():
    """Templates render as in production: Django's test environment makes every render (each
    include, each form field's template) send a signal, for which the test client keeps a copy of
    the context. The walk reads neither a response's templates nor its context."""
    from django.template import Template

    instrumented = Template._render
    Template._render = _render
    try:
        yield
    finally:
        Template._render = instrumented


def _render(self, context):
    """``Template._render`` as Django defines it, before the test environment replaces it."""
    return self.nodelist.render(context)


@contextlib.contextmanager
def quiet_request_log():
    """Django logs every 4xx of the walk (tens of thousands of lines); the failures say enough."""
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _method_refused(response) -> bool:
    return response is not None and response.status_code == 405


def _reached(response) -> bool:
    """The view took the request for this role: not a 404 or 405, not sent to log in (or to the
    device or second-factor gate)."""
    if response is None or response.status_code in (404, 405):
        return False
    location = response.get("Location", "") if response.status_code in (301, 302) else ""
    return not location.startswith(("/konto/login/", "/geraet/wartet/", "/konto/2fa/"))


def _model_of(tables: dict[str, type], table: str, column: str) -> type | None:
    model = tables.get(table)
    if model is None:
        return None
    if column == "id":
        return model
    for model_field in model._meta.concrete_fields:
        if model_field.column == column and model_field.is_relation:
            related = model_field.related_model
            return related if related in tables.values() else None
    return None
