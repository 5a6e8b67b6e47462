"""Django settings, read from environment variables only (see .env.example).

Defaults give the embedded setup: SQLite in ``DATA_DIR``, the in-memory channel layer, e-mail on
the console. ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to Redis for channels, cache
and rate limits, ``EMAIL_HOST`` to SMTP.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlparse

from sprechzimmer.env import (
    ImproperlyConfiguredEnv,
    database_from_url,
    envbool,
    envchoice,
    envint,
    envkeys,
    envlist,
    envstr,
)

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(envstr("DATA_DIR", str(Path.cwd() / "var"))).resolve()

DEBUG = envbool("DEBUG", False)


def _secret_key() -> str:
    key = envstr("SECRET_KEY")
    if key:
        if len(key) < 32:
            raise ImproperlyConfiguredEnv("SECRET_KEY", "muss mindestens 32 Zeichen lang sein")
        return key
    # The embedded setup keeps a key of its own next to the SQLite file: made in development mode
    # (./scripts/run), then used by every later command in the same DATA_DIR, so that e.g.
    # `.venv/bin/sprechzimmer totp EMAIL` works as the README says.
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    if not DEBUG:
        raise ImproperlyConfiguredEnv(
            "SECRET_KEY",
            f"fehlt. Setzen Sie SECRET_KEY (siehe .env.example), oder richten Sie mit ./scripts/run "
            f"die Entwicklungsumgebung ein (sie legt einen Schlüssel in {key_file} an)",
        )
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file.write_text(secrets.token_urlsafe(48))
    key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
#: German answers (JSON for scripts) instead of Django's English "CSRF verification failed" page.
CSRF_FAILURE_VIEW = "sprechzimmer.errors.csrf_failure"
SITE_NAME = envstr("SITE_NAME", "Sprechzimmer")

INSTALLED_APPS = [
    "daphne",
    # the operator's back office (contracts/admin.py): contract and billing data only
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth's WebAuthn key list uses naturaltime
    "channels",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "huey.contrib.djhuey",
    "ninja",  # the API's OpenAPI documentation page and its static files (api/endpoints.py)
    "sprechzimmer.core",
    "sprechzimmer.jobs",
    "sprechzimmer.operations",
    "sprechzimmer.accounts",
    "sprechzimmer.records",
    "sprechzimmer.video",
    "sprechzimmer.billing",
    "sprechzimmer.duty",
    "sprechzimmer.contracts",
    "sprechzimmer.approval",
    "sprechzimmer.status",
    "sprechzimmer.api",
    "sprechzimmer.invitations",
    "sprechzimmer.conference",
    "sprechzimmer.booking",
    "sprechzimmer.demo",
]

MIDDLEWARE = [
    # first, so that its time and status include every other middleware's
    "sprechzimmer.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "sprechzimmer.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "sprechzimmer.middleware.RefuseNullCharactersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "sprechzimmer.accounts.middleware.DeviceMiddleware",
    "sprechzimmer.accounts.screenlock.ScreenLockMiddleware",
    # innermost: a view's blank 405 becomes the German page before the outer middleware see it
    "sprechzimmer.middleware.MethodNotAllowedMiddleware",
]

ROOT_URLCONF = "sprechzimmer.urls"
ASGI_APPLICATION = "sprechzimmer.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sprechzimmer.accounts.context.practice",
                "sprechzimmer.contracts.context.contract",
                "sprechzimmer.approval.context.news",
            ],
            # {% icon "name" %} on every page without a {% load %}.
            "builtins": ["sprechzimmer.core.templatetags.icons"],
        },
    }
]

# --- storage -----------------------------------------------------------------------------------
# SQLite under Daphne's threads: WAL lets readers work beside one writer; every transaction takes
# the write lock when it begins (IMMEDIATE), so a read-then-write transaction never fails with
# "database is locked" when it tries to upgrade; a busy writer is waited for up to 20 s.
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url("DATABASE_URL", DATABASE_URL)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "sprechzimmer.sqlite3"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
    # Keep each thread's connection (Daphne's request threads, Channels' database thread) instead of
    # opening a fresh one per request or websocket join: opening it and running the PRAGMAs was a
    # fifth of a join's server CPU (docs/signalling.md).
    DATABASES["default"]["CONN_MAX_AGE"] = envint("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "sprechzimmer.layers.SweepingInMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- accounts ----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Ours first: logins record it in the session. allauth's stays listed so that sessions made before
# ours existed stay valid until they expire (Django refuses a session whose backend is not listed).
AUTHENTICATION_BACKENDS = [
    "sprechzimmer.accounts.backends.AuthenticationBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# The browser never sends the typed password: it sends a secret derived from it (docs/e2ee.md).
# Strength is checked in the browser; the server can only check the derived secret's shape.
AUTH_PASSWORD_VALIDATORS = [{"NAME": "sprechzimmer.accounts.passwords.DerivedSecretValidator"}]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"

ACCOUNT_ADAPTER = "sprechzimmer.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_CHANGE_EMAIL = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
# A duplicate sign-up must say so clearly (issue #2); the price is that a reset form reveals
# whether an address has an account. Practice addresses are not secret; see docs/e2ee.md.
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_FORMS = {
    "signup": "sprechzimmer.accounts.forms.PracticeSignupForm",
    "change_password": "sprechzimmer.accounts.forms.KeyedChangePasswordForm",
    "reset_password_from_key": "sprechzimmer.accounts.forms.KeyedResetPasswordKeyForm",
    "login": "sprechzimmer.accounts.forms.DerivedLoginForm",
    "reauthenticate": "sprechzimmer.accounts.forms.DerivedReauthenticateForm",
    "set_password": "sprechzimmer.accounts.forms.DerivedSetPasswordForm",
}
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    # Per client address only: a limit per account ("key") would let anyone lock a named doctor out.
    # Failures per account *and* address, with backoff, are counted by accounts/loginguard.py.
    "login_failed": envstr("RATE_LIMIT_LOGIN_FAILED", "20/m/ip"),
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
MFA_ADAPTER = "sprechzimmer.accounts.mfa_adapter.MFAAdapter"
MFA_FORMS = {
    "authenticate": "sprechzimmer.accounts.mfa_forms.GuardedAuthenticateForm",
    "reauthenticate": "sprechzimmer.accounts.mfa_forms.GuardedReauthenticateForm",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = SITE_NAME
MFA_TOTP_TOLERANCE = 1  # one period either side for clock drift
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG


# Keys for TOTP secrets and recovery-code seeds at rest, comma-separated: the first encrypts, all
# decrypt (rotation: docs/operations.md). Unset: a key derived from SECRET_KEY.
MFA_KEYS = envkeys("MFA_KEYS")

SIGNUP_OPEN = envbool("SIGNUP_OPEN", True)
INVITATION_DAYS = envint("INVITATION_DAYS", 7, minimum=1, maximum=60)

# --- video consultation -------------------------------------------------------------------------
# Access-code attempts per address per minute and across all addresses per minute (docs/signalling.md).
ACCESS_CODE_LIMIT_PER_ADDRESS = envint("ACCESS_CODE_LIMIT_PER_ADDRESS", 10, minimum=1)
ACCESS_CODE_LIMIT_GLOBAL = envint("ACCESS_CODE_LIMIT_GLOBAL", 300, minimum=1)
# Leading zero bits of the proof of work asked for while the global limit is exceeded (each further
# doubling of the failure rate adds two bits).
ACCESS_CODE_POW_BITS = envint("ACCESS_CODE_POW_BITS", 16, minimum=1, maximum=24)
# ICE: nothing is needed on one machine; STUN/TURN for real networks (docs/operations.md).
STUN_URLS = envlist("STUN_URLS", [])
TURN_URLS = envlist("TURN_URLS", [])
TURN_SECRET = envstr("TURN_SECRET")
TURN_TTL = envint("TURN_TTL", 6 * 3600, minimum=60)
# Conferences of three or more through Janus (docs/operations.md): Django's server-side address of
# Janus's HTTP API (loopback), the browsers' WebSocket address (through the proxy), the one secret
# Janus's generated configuration derives its secrets from (sprechzimmer.conference.janusconf), and
# how long a participant's Janus token lasts before the browser asks for a new one.
JANUS_URL = envstr("JANUS_URL")
JANUS_WS_URL = envstr("JANUS_WS_URL")
JANUS_SECRET = envstr("JANUS_SECRET")
if JANUS_SECRET and len(JANUS_SECRET) < 32:
    raise ImproperlyConfiguredEnv("JANUS_SECRET", "muss mindestens 32 Zeichen lang sein")
if JANUS_WS_URL and not JANUS_WS_URL.startswith(("ws://", "wss://")):
    raise ImproperlyConfiguredEnv("JANUS_WS_URL", "muss mit wss:// (oder ws:// ohne TLS) beginnen")
JANUS_TOKEN_TTL = envint("JANUS_TOKEN_TTL", 900, minimum=60, maximum=24 * 3600)
# Largest request body (bytes): refused with 413 before anything reads it (sprechzimmer/bodylimit.py);
# set the proxy's limit (nginx client_max_body_size) to the same. Must exceed EBM_UPLOAD_MAX_BYTES.
REQUEST_MAX_BYTES = envint("REQUEST_MAX_BYTES", 32 * 1024 * 1024, minimum=1024 * 1024)
# Django's own backstops: files per request, and the size above which an upload goes to a
# temporary file instead of memory.
DATA_UPLOAD_MAX_NUMBER_FILES = 20
FILE_UPLOAD_MAX_MEMORY_SIZE = 512 * 1024
# Largest quarter file the billing check accepts (bytes).
EBM_UPLOAD_MAX_BYTES = envint("EBM_UPLOAD_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
if EBM_UPLOAD_MAX_BYTES + 64 * 1024 > REQUEST_MAX_BYTES:
    raise ImproperlyConfiguredEnv("REQUEST_MAX_BYTES", "muss größer sein als EBM_UPLOAD_MAX_BYTES (plus 64 KB)")
# The duty planner's budget per plan (one area) in CP-SAT's deterministic time: what decides the
# plan, so that the same input gives the same plan on any machine (docs/duty.md). It returns earlier
# when it proves the optimum.
DUTY_PLAN_WORK = envint("DUTY_PLAN_WORK", 10, minimum=1)
# Wall-clock safety cap per plan in seconds, an outer bound only: a plan it cuts short is marked as
# not reproducible. Far above what DUTY_PLAN_WORK takes on a busy machine.
DUTY_PLAN_SECONDS = envint("DUTY_PLAN_SECONDS", 120, minimum=2)
# Threads of a KV-wide planning run: areas that share no doctor are solved side by side (the same
# plans as one after another, sooner). Threads because CP-SAT lets go of the GIL while it solves
# and the task worker's processes are daemonic (they may not start processes). 1 = one at a time.
DUTY_KV_THREADS = envint("DUTY_KV_THREADS", 2, minimum=1)
# Key for the K-Arzt application documents at rest (AES-256-GCM): 32 bytes, base64url. Without it
# the key is derived from SECRET_KEY (HKDF), so changing SECRET_KEY would make stored documents
# unreadable: set DOCUMENT_KEY in production and back it up.
DOCUMENT_KEY = envstr("DOCUMENT_KEY")
# Digits 8–9 of a K-Arzt's LANR (NFD K-Status); ask your KV for its code.
DUTY_K_STATUS_CODE = envstr("DUTY_K_STATUS_CODE", "97")
if len(DUTY_K_STATUS_CODE) != 2 or not DUTY_K_STATUS_CODE.isdigit():
    raise ImproperlyConfiguredEnv("DUTY_K_STATUS_CODE", "muss aus zwei Ziffern bestehen")
DUTY_DOCUMENT_MAX_BYTES = envint("DUTY_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# Per application: documents and bytes in all; per request: files; per client address and hour: the
# bytes of uploaded documents (duty/documents.py, duty/uploads.py).
DUTY_APPLICATION_MAX_FILES = envint("DUTY_APPLICATION_MAX_FILES", 25, minimum=1)
DUTY_APPLICATION_MAX_BYTES = envint("DUTY_APPLICATION_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
DUTY_UPLOAD_FILES_PER_REQUEST = envint("DUTY_UPLOAD_FILES_PER_REQUEST", 10, minimum=1, maximum=50)
DUTY_UPLOAD_BYTES_PER_HOUR = envint("DUTY_UPLOAD_BYTES_PER_HOUR", 100 * 1024 * 1024, minimum=1024)
# Where the encrypted application documents are stored; shared by every server process.
DOCUMENTS_DIR = Path(envstr("DOCUMENTS_DIR", str(DATA_DIR / "documents"))).resolve()
METADATA_RETENTION_DAYS = envint("METADATA_RETENTION_DAYS", 90, minimum=1, maximum=92)

# Django's database sessions, read with SQL built once per database (sprechzimmer/sessions.py).
SESSION_ENGINE = "sprechzimmer.sessions"
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- contracts and invoices (docs/contracts.md) -------------------------------------------------
# The operator (Betreiber) who bills practices for plus: it appears on every invoice (§ 14 UStG), in
# the AVV and as creditor of the SEPA direct debits. Invoices are issued only when name, address and
# VAT ID or tax number are set.
OPERATOR_NAME = envstr("OPERATOR_NAME")
OPERATOR_STREET = envstr("OPERATOR_STREET")
OPERATOR_POSTCODE = envstr("OPERATOR_POSTCODE")
OPERATOR_CITY = envstr("OPERATOR_CITY")
OPERATOR_EMAIL = envstr("OPERATOR_EMAIL")
OPERATOR_VAT_ID = envstr("OPERATOR_VAT_ID")
OPERATOR_TAX_NUMBER = envstr("OPERATOR_TAX_NUMBER")
OPERATOR_IBAN = envstr("OPERATOR_IBAN")
OPERATOR_BIC = envstr("OPERATOR_BIC")
OPERATOR_CREDITOR_ID = envstr("OPERATOR_CREDITOR_ID")
# Where the instance's data is stored, as the AVV's annex names it (e.g. "im Rechenzentrum der
# Example GmbH in Frankfurt am Main, Deutschland").
OPERATOR_DATA_LOCATION = envstr("OPERATOR_DATA_LOCATION")
# Where the operator's invoice PDFs (PDF/A-3 with Factur-X XML) and SEPA files are kept, apart
# from the practices' data.
INVOICES_DIR = Path(envstr("INVOICES_DIR", str(DATA_DIR / "invoices"))).resolve()
# Days between the invoice date and the direct debit or due date.
INVOICE_DUE_DAYS = envint("INVOICE_DUE_DAYS", 14, minimum=1, maximum=60)

# --- background tasks (Huey; docs/architecture.md) ------------------------------------------------
# The embedded default keeps the queue in a SQLite file next to the database; with REDIS_URL the
# queue lives in Redis (required when more than one server process runs).
TASKS_QUEUE = envstr("TASKS_QUEUE", "sprechzimmer")
if REDIS_URL:
    HUEY = {"huey_class": "huey.RedisHuey", "name": TASKS_QUEUE, "url": REDIS_URL}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    HUEY = {"huey_class": "huey.SqliteHuey", "name": TASKS_QUEUE, "filename": str(DATA_DIR / "tasks.sqlite3")}
# Worker processes, not threads: the monthly invoices are drawn by reportlab in pure Python, which
# holds the GIL, so threads would share one core (docs/contracts.md, "Figures"). One process per
# core the worker may use; each holds Django and its libraries (about 200 MiB).
TASK_WORKERS = envint("TASK_WORKERS", 2, minimum=1, maximum=64)
HUEY.update(
    {
        "immediate": False,
        "utc": True,
        "results": False,
        "consumer": {
            "workers": TASK_WORKERS,
            "worker_type": "process",
            "periodic": True,
            "check_worker_health": True,
        },
    }
)
# A mail that cannot be delivered is tried again after MAIL_RETRY_SECONDS, then twice as long each
# time, MAIL_RETRIES times (defaults: after 1, 2, 4 … 1024 minutes, about a day and a half in all).
MAIL_RETRIES = envint("MAIL_RETRIES", 11, minimum=0, maximum=30)
MAIL_RETRY_SECONDS = envint("MAIL_RETRY_SECONDS", 60, minimum=1)


# --- integrated invitations (plus; docs/invitations.md) -------------------------------------------
# Hours before the start at which reminders go, comma-separated (default 24 h and 1 h before).
def _reminder_hours() -> tuple[int, ...]:
    text = envstr("REMINDER_HOURS", "24,1")
    try:
        hours = tuple(sorted({int(part) for part in text.split(",") if part.strip()}, reverse=True))
    except ValueError:
        raise ImproperlyConfiguredEnv("REMINDER_HOURS", "muss aus ganzen Stunden bestehen, z. B. 24,1") from None
    if any(h < 1 or h > 24 * 14 for h in hours):
        raise ImproperlyConfiguredEnv("REMINDER_HOURS", "jede Angabe liegt zwischen 1 und 336 Stunden")
    return hours


REMINDER_HOURS = _reminder_hours()
# Keys that seal a patient's address while reminders wait (the first seals, all open). Unset: derived
# from SECRET_KEY. Not in the database, so a stolen dump or backup holds no readable address.
CONTACT_KEYS = envkeys("CONTACT_KEYS")
# Invitations a practice may send per hour (each one is a mail the operator's relay carries).
INVITATIONS_PER_PRACTICE_HOUR = envint("INVITATIONS_PER_PRACTICE_HOUR", 60, minimum=1)
# SMS: "console" (development: printed) or "smpp" (SMPP 3.4 to the provider's SMSC).
SMS_BACKEND = envstr("SMS_BACKEND", "console")
if SMS_BACKEND not in ("console", "smpp", "http"):
    raise ImproperlyConfiguredEnv("SMS_BACKEND", "ist console, smpp oder http")
SMPP_HOST = envstr("SMPP_HOST")
if SMS_BACKEND == "smpp" and not SMPP_HOST:
    raise ImproperlyConfiguredEnv("SMPP_HOST", "fehlt (SMS_BACKEND=smpp)")
SMPP_PORT = envint("SMPP_PORT", 2775, minimum=1, maximum=65535)
SMPP_SYSTEM_ID = envstr("SMPP_SYSTEM_ID")
SMPP_PASSWORD = envstr("SMPP_PASSWORD")
SMPP_TIMEOUT = envint("SMPP_TIMEOUT", 15, minimum=1, maximum=120)
# SMS_BACKEND=http: the provider's JSON API (POST, bearer token); the names of its fields for
# number, text and sender, and of the message id in its answer.
SMS_HTTP_URL = envstr("SMS_HTTP_URL")
if SMS_BACKEND == "http" and not SMS_HTTP_URL.startswith(("https://", "http://")):
    raise ImproperlyConfiguredEnv("SMS_HTTP_URL", "fehlt oder ist keine http(s)-Adresse (SMS_BACKEND=http)")
SMS_HTTP_TOKEN = envstr("SMS_HTTP_TOKEN")
SMS_HTTP_FIELDS = tuple(part.strip() for part in envstr("SMS_HTTP_FIELDS", "to,text,from").split(","))
if len(SMS_HTTP_FIELDS) != 3 or not all(SMS_HTTP_FIELDS):
    raise ImproperlyConfiguredEnv(
        "SMS_HTTP_FIELDS", "nennt drei Feldnamen: Nummer, Text, Absender (z. B. to,text,from)"
    )
SMS_HTTP_ID_FIELD = envstr("SMS_HTTP_ID_FIELD", "id")
# Delivery reports of the HTTP API: the provider POSTs them to /sms/zustellberichte/ (JSON or a
# form). Without a secret the address answers 404. The secret authenticates each report in a
# header, never in the URL (request logs carry paths): "hmac" = hex HMAC-SHA256 of the body in
# SMS_HTTP_REPORT_HEADER (a "sha256=" prefix is allowed), "token" = the secret itself there.
SMS_HTTP_REPORT_SECRET = envstr("SMS_HTTP_REPORT_SECRET")
SMS_HTTP_REPORT_AUTH = envchoice("SMS_HTTP_REPORT_AUTH", "hmac", ("hmac", "token"))
SMS_HTTP_REPORT_HEADER = envstr("SMS_HTTP_REPORT_HEADER", "X-Signature")
SMS_HTTP_REPORT_FIELDS = tuple(part.strip() for part in envstr("SMS_HTTP_REPORT_FIELDS", "id,status").split(","))
if len(SMS_HTTP_REPORT_FIELDS) != 2 or not all(SMS_HTTP_REPORT_FIELDS):
    raise ImproperlyConfiguredEnv(
        "SMS_HTTP_REPORT_FIELDS", "nennt zwei Feldnamen: Nachrichten-ID, Status (z. B. id,status)"
    )


def _report_states() -> dict[str, str]:
    """The provider's status words (lower case) and what they mean here: sent, delivered or failed."""
    text = envstr("SMS_HTTP_REPORT_STATES") or (
        "sent=sent,accepted=sent,buffered=sent,enroute=sent,queued=sent,delivered=delivered,delivrd=delivered,"
        "failed=failed,undelivered=failed,undeliv=failed,expired=failed,rejected=failed,rejectd=failed,deleted=failed"
    )
    states = {}
    for pair in text.split(","):
        word, _, meaning = pair.partition("=")
        if not word.strip() or meaning.strip() not in ("sent", "delivered", "failed"):
            raise ImproperlyConfiguredEnv(
                "SMS_HTTP_REPORT_STATES", "besteht aus Paaren Status=sent|delivered|failed (z. B. DELIVRD=delivered)"
            )
        states[word.strip().lower()] = meaning.strip()
    return states


SMS_HTTP_REPORT_STATES = _report_states()
# Seconds the worker listens for delivery receipts each minute.
SMPP_RECEIPT_SECONDS = envint("SMPP_RECEIPT_SECONDS", 5, minimum=1, maximum=50)
# Webhooks of the API (docs/api.md): tries after the first (each wait twice the one before), the
# first wait, the seconds per attempt. A webhook URL must name a public address (no loopback or
# private network: the server would otherwise probe its own network for whoever registers one) and
# use https, unless WEBHOOK_ALLOW_PRIVATE allows both (a practice software in the same network;
# tests). WEBHOOK_KEYS seals the signing secrets at rest (unset: derived from SECRET_KEY).
WEBHOOK_RETRIES = envint("WEBHOOK_RETRIES", 8, minimum=0, maximum=20)
WEBHOOK_RETRY_SECONDS = envint("WEBHOOK_RETRY_SECONDS", 30, minimum=1)
WEBHOOK_TIMEOUT = envint("WEBHOOK_TIMEOUT", 10, minimum=1, maximum=60)
WEBHOOK_ALLOW_PRIVATE = envbool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_KEYS = envkeys("WEBHOOK_KEYS")
# The sender patients see: up to 11 letters or digits (alphanumeric sender ID).
SMS_SENDER = envstr("SMS_SENDER", "Videotermin")
if not (1 <= len(SMS_SENDER) <= 11 and SMS_SENDER.isascii() and SMS_SENDER.replace(" ", "").isalnum()):
    raise ImproperlyConfiguredEnv("SMS_SENDER", "besteht aus 1 bis 11 Buchstaben oder Ziffern")
# The instance's address for links in mails that no request triggers (the monthly statements).
SITE_URL = envstr(
    "SITE_URL",
    f"{'http' if DEBUG else 'https'}://{ALLOWED_HOSTS[0] if ALLOWED_HOSTS else 'localhost'}"
    + (":8000" if DEBUG else ""),
).rstrip("/")

# --- e-mail ------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Sprechzimmer <noreply@localhost>")
EMAIL_HOST = envstr("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = envint("EMAIL_PORT", 587, minimum=1, maximum=65535)
    EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", EMAIL_PORT == 465)
    EMAIL_TIMEOUT = 15
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- language and time ------------------------------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch")]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [PACKAGE_DIR / "locale"]

# --- static files: served by the instance itself (WhiteNoise), never from a CDN -----------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "sprechzimmer.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- security headers --------------------------------------------------------------------------
SECURE_HTTPS = envbool("SECURE_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = SECURE_HTTPS and envbool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if SECURE_HTTPS else 0, minimum=0)
BEHIND_PROXY = envbool("BEHIND_PROXY", False)
# How many reverse proxies in front of Daphne each append to X-Forwarded-For; the client address is
# the entry the first of them appended (ratelimit.client_address).
PROXY_COUNT = envint("PROXY_COUNT", 1, minimum=1, maximum=5)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# allauth's own limits key on the same address (the account adapter's get_client_ip uses ours too).
ALLAUTH_TRUSTED_PROXY_COUNT = PROXY_COUNT if BEHIND_PROXY else 0
ALLAUTH_RATE_LIMIT_IPV6_PREFIX = 56
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
PERMISSIONS_POLICY = "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=()"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # allauth's TOTP enrolment shows its QR code as a data: URI image.
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "media-src": ["'self'", "blob:"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Janus's WebSocket on another host or port than the site (the proxy usually makes it the same
# origin, which 'self' covers): the browsers may connect there too, and nowhere else.
if JANUS_WS_URL.startswith(("ws://", "wss://")):
    _janus = urlparse(JANUS_WS_URL)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"].append(f"{_janus.scheme}://{_janus.netloc}")

# --- metrics for Prometheus (sprechzimmer/metrics.py, docs/operations.md "Metrics") ---------------
# The bearer token the scraper sends (Authorization header, never in the URL). Unset: /metrics answers
# 404. At least 32 characters, so that guessing it is hopeless without a rate limit: a limit on
# wrong tokens would let anyone lock the operator's scraper out.
METRICS_TOKEN = envstr("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfiguredEnv("METRICS_TOKEN", "muss mindestens 32 Zeichen lang sein")
# Several processes on one machine (server processes, the task worker's): prometheus_client keeps
# each process's counts in files in this directory and /metrics sums them. prometheus_client reads
# the variable itself; it is read here only to stop start-up when it names no directory.
PROMETHEUS_MULTIPROC_DIR = envstr("PROMETHEUS_MULTIPROC_DIR")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    raise ImproperlyConfiguredEnv("PROMETHEUS_MULTIPROC_DIR", f"{PROMETHEUS_MULTIPROC_DIR} ist kein Verzeichnis")
# Scraping a server process directly (each process or machine, not through the load balancer) is
# plain HTTP on a private network: no redirect to https for this one path.
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]

# --- logging: to stderr, never request bodies ---------------------------------------------------
LOG_LEVEL = envstr("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR"):
    raise ImproperlyConfiguredEnv("LOG_LEVEL", f"erwartet DEBUG, INFO, WARNING oder ERROR, nicht {LOG_LEVEL!r}")
# "json": every line one JSON object (time, level, logger, message, exception) for a log collector;
# secrets in paths are redacted before either format sees the line.
LOG_FORMAT = envchoice("LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_paths": {"()": "sprechzimmer.logsafety.RedactPaths"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "sprechzimmer.logformat.JsonFormatter"},
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["redact_paths"]}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        # The development server's request lines repeat what sprechzimmer.access writes (redacted).
        "django.channels.server": {"level": "WARNING"},
        # The task worker logs through our handler (run_huey adds its own only to a bare logger).
        "huey": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
    },
}
