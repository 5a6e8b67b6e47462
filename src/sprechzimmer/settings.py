"""Django settings, read from environment variables only (see .env.example).

Defaults give the embedded setup: SQLite in ``DATA_DIR``, the in-memory channel layer, e-mail on
the console. ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to Redis for channels, cache
and rate limits, ``EMAIL_HOST`` to SMTP.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sprechzimmer.env import (
    ImproperlyConfiguredEnv,
    database_from_url,
    envbool,
    envint,
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
            raise ImproperlyConfiguredEnv("SECRET_KEY", "must be at least 32 characters long")
        return key
    if not DEBUG:
        raise ImproperlyConfiguredEnv("SECRET_KEY", "is required unless DEBUG=true")
    # Embedded development setup: a key of its own, kept next to the SQLite file.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
SITE_NAME = envstr("SITE_NAME", "Sprechzimmer")

INSTALLED_APPS = [
    "daphne",
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
    "sprechzimmer.accounts",
    "sprechzimmer.records",
    "sprechzimmer.video",
    "sprechzimmer.billing",
    "sprechzimmer.duty",
]

MIDDLEWARE = [
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
            ],
        },
    }
]

# --- storage -----------------------------------------------------------------------------------
DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url("DATABASE_URL", DATABASE_URL)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "sprechzimmer.sqlite3",
            # WAL and a busy timeout keep the single-file database usable under Daphne's threads.
            "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- accounts ----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
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
}
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": envstr("RATE_LIMIT_LOGIN_FAILED", "10/m/ip,5/5m/key"),
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = SITE_NAME
MFA_TOTP_TOLERANCE = 1  # one period either side for clock drift
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG

SIGNUP_OPEN = envbool("SIGNUP_OPEN", True)
INVITATION_DAYS = envint("INVITATION_DAYS", 7, minimum=1, maximum=60)

# --- video consultation -------------------------------------------------------------------------
# Access-code attempts per address per minute and across all addresses per minute (docs/signalling.md).
ACCESS_CODE_LIMIT_PER_ADDRESS = envint("ACCESS_CODE_LIMIT_PER_ADDRESS", 10, minimum=1)
ACCESS_CODE_LIMIT_GLOBAL = envint("ACCESS_CODE_LIMIT_GLOBAL", 300, minimum=1)
# ICE: nothing is needed on one machine; STUN/TURN for real networks (docs/operations.md).
STUN_URLS = envlist("STUN_URLS", [])
TURN_URLS = envlist("TURN_URLS", [])
TURN_SECRET = envstr("TURN_SECRET")
TURN_TTL = envint("TURN_TTL", 6 * 3600, minimum=60)
# Largest quarter file the billing check accepts (bytes).
EBM_UPLOAD_MAX_BYTES = envint("EBM_UPLOAD_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
# Seconds the duty planner may search per plan (one area); it returns earlier when it proves the optimum.
DUTY_PLAN_SECONDS = envint("DUTY_PLAN_SECONDS", 20, minimum=2)
# Key for the K-Arzt application documents at rest (AES-256-GCM): 32 bytes, base64url. Without it
# the key is derived from SECRET_KEY (HKDF), so changing SECRET_KEY would make stored documents
# unreadable: set DOCUMENT_KEY in production and back it up.
DOCUMENT_KEY = envstr("DOCUMENT_KEY")
# Digits 8–9 of a K-Arzt's LANR (NFD K-Status); ask your KV for its code.
DUTY_K_STATUS_CODE = envstr("DUTY_K_STATUS_CODE", "97")
if len(DUTY_K_STATUS_CODE) != 2 or not DUTY_K_STATUS_CODE.isdigit():
    raise ImproperlyConfiguredEnv("DUTY_K_STATUS_CODE", "must be two digits")
DUTY_DOCUMENT_MAX_BYTES = envint("DUTY_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
METADATA_RETENTION_DAYS = envint("METADATA_RETENTION_DAYS", 90, minimum=1, maximum=92)

SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

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
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
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

# --- logging: to stderr, never request bodies ---------------------------------------------------
LOG_LEVEL = envstr("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR"):
    raise ImproperlyConfiguredEnv("LOG_LEVEL", f"expected DEBUG, INFO, WARNING or ERROR, got {LOG_LEVEL!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
}
