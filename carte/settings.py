"""Carte's one settings module, driven by the environment.

Development (the default) runs with SQLite under var/ and a generated secret key kept in
var/. Production (CARTE_PRODUCTION=1) needs SECRET_KEY and ALLOWED_HOSTS from the
environment and turns on the HTTPS-only protections that `carte check` verifies.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from carte.env import env_bool, env_int, env_list, env_str

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(env_str("CARTE_VAR_DIR", str(BASE_DIR.parent / "var")))

PRODUCTION = env_bool("CARTE_PRODUCTION", False)
DEBUG = env_bool("CARTE_DEBUG", False)


def _development_secret_key() -> str:
    # A stable per-checkout key, so sessions survive restarts without a secret in the repo.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY") if PRODUCTION else env_str("SECRET_KEY", "") or ""
if not SECRET_KEY:
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "axes",  # failed logins, counted by account and by address (see "Throttling" below)
    # The API's interactive docs: installed, django-ninja serves Swagger UI from its own
    # static files (no CDN, which the Content-Security-Policy would block).
    "ninja",
    "carte.core",
    "carte.organisations",
    "carte.catalogue",
    "carte.lifecycle",
    "carte.operations",
    "carte.capacity",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "carte.core.middleware.SecurityHeadersMiddleware",
    # Refuses an address that sent too many bad API tokens, before any database work.
    "carte.organisations.throttle.TokenThrottleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a login refused for too many failures into the
    # lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "carte.urls"
WSGI_APPLICATION = "carte.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "carte.navigation.navigation",
            ],
        },
    },
]

_SQLITE_PATH = VAR_DIR / "carte.sqlite3"
DATABASE_URL = env_str("DATABASE_URL", "") or f"sqlite:///{_SQLITE_PATH}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue instead of failing half-way through a transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": None}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "organisations.User"
# The tenant every domain row belongs to (core.models.TenantModel names it through this).
CARTE_TENANT_MODEL = "organisations.Organisation"
# django-axes' backend comes first: it refuses a locked-out login before the password is
# checked (it authenticates nobody itself).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
# Uploaded files (lifecycle attachments): served only through views that check rights.
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production, whitenoise serves straight from the app folders: no collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

# Long work (imports, documents) runs as background tasks through Django's Tasks API
# (`core.jobs`). The default keeps them in the database, so one machine needs nothing more:
# `carte run` starts a worker beside the web server. CARTE_TASKS_BACKEND switches: "rq"
# queues them in Redis (CARTE_TASKS_REDIS_URL) for workers on other machines (the
# `distributed` extra; workers: `carte manage rqworker --job-class django_tasks_rq.Job
# default`); "immediate" runs each task in the request that starts it; a dotted path names
# any other Tasks backend. Results are files in the default storage (MEDIA_ROOT): workers
# on other machines need it shared with the web servers.
TASKS_BACKEND = env_str("CARTE_TASKS_BACKEND", "database")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "rq": "django_tasks_rq.RQBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS and "." not in TASKS_BACKEND:
    raise ImproperlyConfigured(
        f"CARTE_TASKS_BACKEND={TASKS_BACKEND!r}: use database, rq, immediate or the dotted "
        "path of a Tasks backend."
    )
TASKS = {
    "default": {
        "BACKEND": _TASK_BACKENDS.get(TASKS_BACKEND, TASKS_BACKEND),
        "QUEUES": ["default"],
    }
}
if TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {
        "default": {"URL": env_str("CARTE_TASKS_REDIS_URL"), "DEFAULT_TIMEOUT": 3600},
    }

# Security headers that hold everywhere; the HTTPS-only ones are in production mode.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Content-Security-Policy: everything from our own origin, no inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)

# E-mail (notifications sent by `carte notify`): printed on the console unless an SMTP
# server is named by EMAIL_HOST; EMAIL_BACKEND overrides both.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)  # seconds: a stuck server must not hang cron
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "carte@localhost")
# Where Carte is reached from outside: the links in e-mails and calendar feeds.
CARTE_BASE_URL = env_str("CARTE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# Throttling. Failed logins (django-axes, counted in the database) lock an account, and
# separately an address, out after CARTE_LOGIN_FAILURES failures within
# CARTE_LOGIN_COOLOFF_MINUTES; each attempt while locked out starts the wait again. An
# organisation's administrator unlocks a member's login from the member's page; the
# operator with `carte manage axes_reset_username EMAIL` (or `axes_reset_ip ADDRESS`).
AXES_FAILURE_LIMIT = env_int("CARTE_LOGIN_FAILURES", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CARTE_LOGIN_COOLOFF_MINUTES", 15))
# "username" and "ip_address" apart: an account is locked whatever the address the
# guesses come from, and an address whatever the accounts it tries.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"  # the login form's field (and authenticate()'s keyword)
AXES_USERNAME_CALLABLE = "carte.organisations.throttle.login_name"  # case-folded e-mail
AXES_CLIENT_IP_CALLABLE = "carte.organisations.throttle.client_address"
# The lockout page (registration/lockout.html, status 429) says until when.
AXES_LOCKOUT_CALLABLE = "carte.organisations.throttle.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# An attempt while locked out is counted (the right password too), so the wait runs from
# the last attempt and the page can tell its end.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = True
AXES_ENABLE_ADMIN = False  # Carte has no Django admin site
AXES_VERBOSE = False  # no log line at every start
AXES_DISABLE_ACCESS_LOG = True  # keep the failures only, not a row per successful login
# Proxies in front of Carte that append the client's address to X-Forwarded-For (the
# TLS-terminating proxy production runs behind: 1); 0 takes the connection's address.
CARTE_TRUSTED_PROXIES = env_int("CARTE_TRUSTED_PROXIES", 1 if PRODUCTION else 0)
# Bad API tokens: after CARTE_TOKEN_FAILURES failures from one address within
# CARTE_TOKEN_COOLOFF_MINUTES, every bearer request from it is answered 429 (with
# Retry-After) until that time has passed, without reading the database (0 failures:
# never). Counted in the cache below.
CARTE_TOKEN_FAILURES = env_int("CARTE_TOKEN_FAILURES", 20)
CARTE_TOKEN_COOLOFF_MINUTES = env_int("CARTE_TOKEN_COOLOFF_MINUTES", 15)
# The cache holds the bad-token counts: in each server process by default (so each of
# `carte run`'s workers counts on its own); CARTE_CACHE_REDIS_URL shares them through Redis
# (redis-py comes with the `distributed` extra).
_REDIS_CACHE = env_str("CARTE_CACHE_REDIS_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _REDIS_CACHE}
    if _REDIS_CACHE
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

CARTE_PAGE_SIZE = 25
CARTE_MAX_PAGE_SIZE = 200
# The lifecycle board flags a service in a stage it should pass through for longer.
CARTE_STUCK_DAYS = env_int("CARTE_STUCK_DAYS", 90)
