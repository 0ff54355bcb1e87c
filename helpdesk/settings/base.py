"""Settings shared by every environment. Everything comes from environment variables.

Business policy (SLA targets, business hours, tier names) is data edited by admins, not settings.
"""

from pathlib import Path
from typing import Any

import environ

from helpdesk import __version__
from helpdesk.embedded import database_settings, redis_cache_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


def env_list(name: str, default: list[str]) -> list[str]:
    """Comma-separated list; spaces around items are ignored ("a.example, b.example")."""
    return [item.strip() for item in env.list(name, default=default) if item.strip()]


SECRET_KEY = env("SECRET_KEY", default="insecure-local-only-key-change-me-in-production-0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])
HELPDESK_VERSION = __version__

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "axes",
    "csp",
    "helpdesk.core",
    "tickets",
    "sla",
    "knowledgebase",
    "reports",
]

MIDDLEWARE = [
    # First, so that on the way out it sees every Vary header the others add.
    "helpdesk.core.middleware.PrivateCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "helpdesk.core.middleware.UserTimeZoneMiddleware",
    # Counts rate-limited actions by client address; a refused page goes out as 429.
    "helpdesk.core.ratelimit.RateLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "helpdesk.core.middleware.SecurityHeadersMiddleware",
    # AxesMiddleware must be last: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tickets.context_processors.navigation",
            ],
            # ``{% when %}``, the one date/time style, in every template without a load.
            "builtins": ["helpdesk.core.templatetags.when"],
        },
    },
]

# PostgreSQL only. The local and test settings fill DATABASE_URL with an embedded server.
DATABASES = {"default": database_settings(env("DATABASE_URL"))}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Server-side cursors cost three round trips (DECLARE, FETCH, CLOSE) for the short option lists
# that .iterator() reads, and they do not work behind a transaction-pooling pgbouncer.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# A bound on any one SQL statement, in milliseconds (0: none). The web server sets 30 s (see
# helpdesk/web.py and docker-compose.yml) so a request its client gave up on cannot keep
# PostgreSQL busy; Celery tasks (rollups, recomputes) and commands run without it.
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=0)
if DB_STATEMENT_TIMEOUT_MS:
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # Axes first so a locked-out login never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # The old name of the line above: sessions started under it store this path and stay signed
    # in; it signs no one in (tickets/authentication.py).
    "tickets.authentication.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Email: console by default so a local password reset shows its link in the log.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Helpdesk <helpdesk@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# --------------------------------------------------------------------------- Redis and Celery
REDIS_URL = env("REDIS_URL")
# Django's cache (short-lived shared figures such as queue tab counts) and the sessions it
# fronts; Redis database 1 of the same server unless CACHE_URL names another.
# Redis is a helper, never a single point of failure (helpdesk/core/cache.py): a cache call
# waits at most REDIS_TIMEOUT_SECONDS to connect and as long for an answer, then counts as a
# miss, and the process leaves Redis alone for CACHE_RETRY_SECONDS, so a hung Redis costs a
# page at most one timeout.
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=0.5)
CACHE_RETRY_SECONDS = env.float("CACHE_RETRY_SECONDS", default=5.0)
CACHES = {
    "default": {
        "BACKEND": "helpdesk.core.cache.RedisCache",
        "LOCATION": env("CACHE_URL", default=redis_cache_url(REDIS_URL)),
        "KEY_PREFIX": "helpdesk",
        "KEY_FUNCTION": "helpdesk.core.cache.make_key",  # keys name the database they describe
        "OPTIONS": {
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
            "retry_seconds": CACHE_RETRY_SECONDS,
        },
    }
}
# cached_db writes every session to PostgreSQL as well, so with the cache out of reach a
# session is read from there.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# A task is acknowledged only after it ran, and a worker killed mid-task gives it back.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# Longer than any countdown, ETA or retry we use (the longest outbox back-off is one hour),
# so Redis never hands an unacknowledged task to a second worker while the first still has it.
# It is also when Redis hands out again a task whose worker's main process died (kill -9, out
# of memory); outbox messages come back sooner through the relay (OUTBOX_REDELIVER_AFTER_SECONDS)
# and beat sends a new sweep every minute. Workers look for such tasks every
# CELERY_UNACKED_RESTORE_INTERVAL seconds. The crash tests shorten both.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=6 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "socket_timeout": 5,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_BEAT_SCHEDULER = "helpdesk.beat:SingleBeatScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --------------------------------------------------------------------------- REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API call then gets 401 with WWW-Authenticate, not 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "helpdesk.core.api.AutoSchema",
    "EXCEPTION_HANDLER": "helpdesk.core.api.exception_handler",
    # DRF's JSON parser turned a very deep body into a RecursionError (500); ours answers 400.
    "DEFAULT_PARSER_CLASSES": [
        "helpdesk.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": "Tickets, tiers, SLA clocks, knowledge base and KPIs.",
    "VERSION": __version__,
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and Swagger UI are for signed-in users and token holders, like the API itself.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies are documented as JSON, the API's language. Form posts (the browsable API)
    # still parse, with HTML-form meanings (an empty field is null) that JSON Schema cannot say;
    # uploads document their multipart body themselves.
    "PARSER_WHITELIST": ["helpdesk.core.parsers.JSONParser"],
    # A text field that refuses blank says so (minLength: 1), as the serializer checks it.
    "ENFORCE_NON_BLANK_FIELDS": True,
    # Several fields are called "kind" or "tier" with different choices: each set gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "MessageKindEnum": "tickets.models.MessageKind",
        "NotificationKindEnum": "tickets.models.Notification.Kind",
        "TierEnum": "tickets.models.Tier",
    },
    # Every error answer documented with its JSON body (helpdesk.core.api.document_errors).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "helpdesk.core.api.document_errors",
    ],
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --------------------------------------------------------------------------- security baseline
# Login brute-force protection: after 5 failures a username is locked (from any address),
# and so is an address (for any username), so neither a slow spray nor a guesser gets through.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)
# The client address (behind PROXY_COUNT proxies, from X-Forwarded-For), shared with the rate limits.
AXES_CLIENT_IP_CALLABLE = "helpdesk.core.ratelimit.client_address"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# No inline scripts or styles anywhere: every script and stylesheet is a file in static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # A refused request (403) is one line on helpdesk.refusals, not a warning with a traceback.
    "filters": {"refusals": {"()": "helpdesk.core.refusals.OneLineRefusals"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        "django.request": {"filters": ["refusals"]},
        # One line per task run would drown the log: the relay runs every 5 seconds.
        "celery.app.trace": {"level": env("CELERY_TASK_LOG_LEVEL", default="WARNING")},
        "celery.worker.strategy": {"level": env("CELERY_TASK_LOG_LEVEL", default="WARNING")},
        "celery.beat": {"level": env("CELERY_TASK_LOG_LEVEL", default="WARNING")},
    },
}

# --------------------------------------------------------------------------- helpdesk behaviour
# How long a message may sit relayed-but-unfinished before the relay hands it to Celery again.
OUTBOX_REDELIVER_AFTER_SECONDS = env.int("OUTBOX_REDELIVER_AFTER_SECONDS", default=600)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=20)
# Absolute address of the site, for links in e-mails. Locally it follows the port `make run`
# serves on (PORT); production requires it (there is no way to guess the public address).
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{env('PORT', default='8000')}").rstrip("/")
# A requester may reopen a resolved ticket within this many days; then it closes (DESIGN.md).
TICKET_REOPEN_WINDOW_DAYS = env.int("TICKET_REOPEN_WINDOW_DAYS", default=7)
# Largest attachment accepted, in bytes (default 10 MB).
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# How long the knowledge base remembers a search page's or a suggestion list's results per kind
# of reader (publishing or archiving an article forgets them at once); 0 turns it off.
KB_SEARCH_CACHE_SECONDS = env.int("KB_SEARCH_CACHE_SECONDS", default=60)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# /healthz calls beat or worker stale after this many seconds without a heartbeat.
HEARTBEAT_STALE_SECONDS = env.int("HEARTBEAT_STALE_SECONDS", default=180)

# --------------------------------------------------------------------------- e-mail channel (tickets.mail)
# Notifications come From DEFAULT_FROM_EMAIL. The mailbox that receives replies (piped to
# `manage.py receive_email` or polled over IMAP) is HELPDESK_MAIL_ADDRESS (default: the address of
# DEFAULT_FROM_EMAIL); plus-addressed with a ticket's secret token (helpdesk+<token>@domain) it is
# the Reply-To that routes an answer back to its ticket.
HELPDESK_MAIL_ADDRESS = env("HELPDESK_MAIL_ADDRESS", default="")
# Right-hand side of our Message-IDs (<ticket-123@domain> is a ticket's thread root); defaults
# to the domain of HELPDESK_MAIL_ADDRESS.
HELPDESK_MAIL_DOMAIN = env("HELPDESK_MAIL_DOMAIN", default="")
# A new e-mail from an address nobody has: create a requester account for it (no password, it
# cannot log in until an admin gives it one) or keep the mail for an admin ("held").
HELPDESK_MAIL_ALLOW_UNKNOWN_SENDERS = env.bool("HELPDESK_MAIL_ALLOW_UNKNOWN_SENDERS", default=True)
# Loop brake: at most this many mails per ticket to one address within an hour; more are skipped and logged.
HELPDESK_MAIL_MAX_PER_TICKET_RECIPIENT_HOUR = env.int("HELPDESK_MAIL_MAX_PER_TICKET_RECIPIENT_HOUR", default=10)
# Inbound messages larger than this are stored (raw, for an admin) but not turned into tickets.
HELPDESK_MAIL_MAX_INBOUND_BYTES = env.int("HELPDESK_MAIL_MAX_INBOUND_BYTES", default=40 * 1024 * 1024)
# IMAP polling (a beat task, every minute); disabled while HELPDESK_IMAP_HOST is empty.
HELPDESK_IMAP_HOST = env("HELPDESK_IMAP_HOST", default="")
HELPDESK_IMAP_PORT = env.int("HELPDESK_IMAP_PORT", default=993)
HELPDESK_IMAP_USER = env("HELPDESK_IMAP_USER", default="")
HELPDESK_IMAP_PASSWORD = env("HELPDESK_IMAP_PASSWORD", default="")
HELPDESK_IMAP_FOLDER = env("HELPDESK_IMAP_FOLDER", default="INBOX")
HELPDESK_IMAP_SSL = env.bool("HELPDESK_IMAP_SSL", default=True)
# Without SSL: upgrade the plain connection with STARTTLS first (recommended unless on loopback).
HELPDESK_IMAP_STARTTLS = env.bool("HELPDESK_IMAP_STARTTLS", default=False)
# What happens to a fetched message once it is safely stored: "seen" (flag it) or "delete" (expunge).
HELPDESK_IMAP_AFTER = env("HELPDESK_IMAP_AFTER", default="seen")
HELPDESK_IMAP_BATCH = env.int("HELPDESK_IMAP_BATCH", default=50)
HELPDESK_IMAP_TIMEOUT = env.int("HELPDESK_IMAP_TIMEOUT", default=30)

# --------------------------------------------------------------------------- rate limits (helpdesk.core.ratelimit)
# "count/window" per action and scope: "user" (requesters, vendor contacts, and for anonymous
# actions the e-mail address or survey concerned), "staff" (agents, managers, admins: phone
# calls come in bursts) and "address" (the client address of the request, staff not counted).
# A window is seconds, or with a unit: 10/10m, 3/h. Each is RATE_LIMIT_<ACTION>_<SCOPE> in the
# environment, e.g. RATE_LIMIT_CREATE_TICKET_USER=10/10m.
_RATE_LIMIT_DEFAULTS = {
    "create_ticket": {"user": "10/10m", "staff": "300/10m", "address": "60/10m"},
    "reply": {"user": "30/10m", "staff": "600/10m", "address": "200/10m"},
    "kb_feedback": {"user": "30/10m", "staff": "120/10m", "address": "200/10m"},
    "survey_answer": {"user": "10/10m", "address": "60/10m"},  # counted for the requester
    "password_reset": {"user": "3/h", "address": "10/h"},
}
RATE_LIMITS = {
    action: {scope: env(f"RATE_LIMIT_{action.upper()}_{scope.upper()}", default=rate) for scope, rate in scopes.items()}
    for action, scopes in _RATE_LIMIT_DEFAULTS.items()
}
# The limiter's Redis (default: the cache's); a short timeout, after which PostgreSQL counts
# instead and Redis is left alone for RATE_LIMIT_REDIS_RETRY_SECONDS.
RATE_LIMIT_REDIS_URL = env("RATE_LIMIT_REDIS_URL", default="")
RATE_LIMIT_REDIS_TIMEOUT = env.float("RATE_LIMIT_REDIS_TIMEOUT", default=0.25)
RATE_LIMIT_REDIS_RETRY_SECONDS = env.float("RATE_LIMIT_REDIS_RETRY_SECONDS", default=5.0)
