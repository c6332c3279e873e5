"""Settings for JourneyHub, all in one module and driven by environment variables.

Embedded defaults (no variables set) give a working development setup: a SQLite
file under ``var/``, Celery tasks run eagerly in-process, the console e-mail
backend. Production sets ``SECRET_KEY``, ``DEBUG=false``, ``ALLOWED_HOSTS``,
``DATABASE_URL`` and ``CELERY_BROKER_URL``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from exc


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "mptt",
    "guardian",
    "simple_history",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "maps",
    "governance",
    "search_index",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # anonymous users see only the sign-in page; DRF's views opt out and answer 401 JSON
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # last, as django-axes asks: turns a locked-out sign-in into the lockout page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "journeyhub.urls"
WSGI_APPLICATION = "journeyhub.wsgi.application"
ASGI_APPLICATION = "journeyhub.asgi.application"

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
                "maps.context_processors.vocabulary",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'journeyhub.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite as an embedded database for several gunicorn workers: concurrent writers wait
    # for the write lock (up to SQLITE_TIMEOUT seconds) instead of failing with "database is
    # locked". IMMEDIATE takes the lock when a transaction begins, because a transaction
    # that read first cannot wait for it later; WAL lets reads go on during a write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE",
        timeout=env_int("SQLITE_TIMEOUT", 20),
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The map tree's unique (tree_id, lft/rght) constraints are deferred to the commit, which
# PostgreSQL supports and SQLite does not (it has one writer at a time): maps/tree.py.
SILENCED_SYSTEM_CHECKS = ["models.W038"]

AUTHENTICATION_BACKENDS = [
    # first: refuses sign-in attempts while a username + IP is locked out (django-axes)
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# where `collectstatic` writes and whitenoise serves from when DEBUG is false
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request if it is missing
# uploads (event logs); never served by the app itself
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "JourneyHub <journeyhub@localhost>")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))  # filebased backend
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# --- django-guardian: no anonymous user row; anonymous users get nothing.
ANONYMOUS_USER_NAME = None
GUARDIAN_MONKEY_PATCH_USER = False

# --- django-simple-history
SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False

# --- Django REST framework
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # token first: anonymous API calls get 401 with a WWW-Authenticate header
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # keyset pages by default, ?page= for page-number clients (journeyhub/pagination.py)
    "DEFAULT_PAGINATION_CLASS": "journeyhub.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "journeyhub.api.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # journeyhub/throttling.py; the limits are documented in the README
    "DEFAULT_THROTTLE_CLASSES": [
        "journeyhub.throttling.ScopedThrottle",
        "journeyhub.throttling.WriteThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": os.environ.get("JOURNEYHUB_THROTTLE_TOKEN", "10/minute"),
        "imports": os.environ.get("JOURNEYHUB_THROTTLE_IMPORTS", "30/hour"),
        "writes": os.environ.get("JOURNEYHUB_THROTTLE_WRITES", "600/minute"),
        # openings of public share links (/s/<token>/) per client IP (a page, not the API)
        "share_links": os.environ.get("JOURNEYHUB_THROTTLE_SHARE_LINKS", "60/minute"),
    },
    # JSON bodies: bounded size, depth and integer digits, finite numbers (a 400 or 413
    # naming the JSON path); Django's own refusals of a request body answer JSON too
    "DEFAULT_PARSER_CLASSES": [
        "journeyhub.api.parsers.GuardedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "journeyhub.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    # the API takes JSON (form and multipart bodies still parse, for the browsable API and
    # the import's file upload, which documents its own media types)
    "PARSER_WHITELIST": ["journeyhub.api.parsers.GuardedJSONParser"],
    # the error answers every operation can give (journeyhub/api/schema.py)
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "journeyhub.api.schema.add_error_responses",
    ],
    "TITLE": "JourneyHub API",
    "DESCRIPTION": "Journey maps, their content, KPIs and CX projects.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # no third-party validator badge (it would send the schema URL out; CSP blocks it)
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MapStatusEnum": "maps.models.JourneyMap.Status",
        "ProjectStatusEnum": "maps.models.CXProject.Status",
    },
}

# --- Content-Security-Policy (django-csp): only this site's own scripts, styles, images
# and fonts; no inline script or style anywhere (json_script data blocks are not run).
# Swagger UI at /api/docs/ relaxes styles and data: images for itself (api_urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT failed sign-ins for one
# username from one IP, that pair is locked out for AXES_COOLOFF_MINUTES (a 429 page).
# Behind a reverse proxy, set AXES_IPWARE_PROXY_COUNT / AXES_IPWARE_META_PRECEDENCE_ORDER
# so the client's address is read, not the proxy's.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "journeyhub.views.locked_out"  # the friendly lockout page

# --- Celery: without a broker every task runs eagerly, in-process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# With a broker, `celery -A journeyhub beat` runs these (eagerly they never run on their own).
CELERY_BEAT_SCHEDULE = {
    "send-review-reminders-daily": {
        "task": "governance.tasks.send_review_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
    "snapshot-scorecards-nightly": {
        "task": "governance.tasks.snapshot_scorecards",
        "schedule": crontab(hour=1, minute=30),
    },
    "expire-event-logs-hourly": {
        "task": "maps.tasks.expire_event_logs",
        "schedule": crontab(minute=15),
    },
    "expire-theydo-previews-hourly": {
        "task": "maps.tasks.expire_theydo_previews",
        "schedule": crontab(minute=20),
    },
    "expire-map-import-previews-hourly": {
        "task": "maps.tasks.expire_map_import_previews",
        "schedule": crontab(minute=25),
    },
    "expire-discovery-uploads-hourly": {
        "task": "maps.tasks.expire_discovery_uploads",
        "schedule": crontab(minute=35),
    },
}

# --- JourneyHub domain settings
JOURNEYHUB_DEFAULT_REVIEW_EVERY_DAYS = env_int("JOURNEYHUB_DEFAULT_REVIEW_EVERY_DAYS", 90)
JOURNEYHUB_BASE_URL = os.environ.get("JOURNEYHUB_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
JOURNEYHUB_LEADERSHIP_GROUP = os.environ.get("JOURNEYHUB_LEADERSHIP_GROUP", "CX leadership")
# An uploaded event log is removed once imported or refused; one left waiting for its
# activities' step mapping is removed (and its import fails) after this many hours
# (hourly task). The import records and their results stay.
JOURNEYHUB_EVENT_LOG_UNCONFIRMED_HOURS = env_int("JOURNEYHUB_EVENT_LOG_UNCONFIRMED_HOURS", 24)
# A TheyDo file previewed but not confirmed is deleted (record and file) after this many
# hours (hourly task); imported, refused and failed files are removed at once.
JOURNEYHUB_THEYDO_PREVIEW_HOURS = env_int("JOURNEYHUB_THEYDO_PREVIEW_HOURS", 24)
# A log uploaded to discover a map is deleted once the map is created or the proposal
# discarded, or this many hours after the upload (maps/discovery/store.py).
JOURNEYHUB_DISCOVERY_HOURS = env_int("JOURNEYHUB_DISCOVERY_HOURS", 24)
# the largest research attachment accepted (bytes); files are served only to the map's viewers
JOURNEYHUB_ATTACHMENT_MAX_BYTES = env_int("JOURNEYHUB_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
# how long after posting the author may still edit a comment (minutes); then: reply
JOURNEYHUB_COMMENT_EDIT_MINUTES = env_int("JOURNEYHUB_COMMENT_EDIT_MINUTES", 15)

# --- HTTPS. One switch, on by default in production: the site is served over HTTPS only,
# directly by gunicorn or behind a reverse proxy that terminates TLS and sets
# X-Forwarded-Proto (and overwrites any the client sent). `JOURNEYHUB_HTTPS=false` with
# DEBUG=false is for plain-HTTP set-ups on a trusted network (and the tests on 127.0.0.1).
JOURNEYHUB_HTTPS = env_bool("JOURNEYHUB_HTTPS", not DEBUG)
if JOURNEYHUB_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", JOURNEYHUB_HTTPS)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", JOURNEYHUB_HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", JOURNEYHUB_HTTPS)
# Browsers remember HSTS for this long: start lower (e.g. 3600) if HTTPS is new to the domain.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if JOURNEYHUB_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", JOURNEYHUB_HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", JOURNEYHUB_HTTPS)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own "django" logger has a console handler and also propagates to the root:
    # without this every request warning was printed twice.
    "loggers": {"django": {"handlers": ["console"], "propagate": False}},
}
