"""Django settings for Trygg, read from the environment with safe defaults.

Embedded default: SQLite (WAL) under ``TRYGG_DATA_DIR`` and an in-memory channel
layer. At scale: ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
REPO_DIR = BASE_DIR.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("TRYGG_DATA_DIR") or REPO_DIR / "var").resolve()

DEBUG = env_bool("TRYGG_DEBUG")
# A development key is only acceptable while DEBUG or in the demo; production sets TRYGG_SECRET_KEY.
SECRET_KEY = os.environ.get("TRYGG_SECRET_KEY") or "trygg-insecure-development-key-set-TRYGG_SECRET_KEY"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("TRYGG_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("TRYGG_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "trygg.audit",
    "trygg.directory",
    "trygg.policy",
    "trygg.events",
    "trygg.messaging",
    "trygg.notifications",
    "trygg.meetings",
    "trygg.classlist",
    "trygg.cases",
    "trygg.safety",
    "trygg.signin",
    "trygg.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "trygg.web.middleware.StaticFilesMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "trygg.web.middleware.SignedInPagesMiddleware",
    "trygg.api_errors.ApiErrorMiddleware",
    # Last, so it sees a page's step-up refusal first and turns it into the step-up page.
    "trygg.web.middleware.StepUpPagesMiddleware",
]

ROOT_URLCONF = "trygg.urls"
ASGI_APPLICATION = "trygg.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "trygg.web.context.shell",
            ],
        },
    },
]

DATA_DIR_DB = DATA_DIR / "trygg.sqlite3"
if os.environ.get("DATABASE_URL"):
    # Sync views run on a few threads per process (TRYGG_DB_THREADS, trygg/asgi.py), each keeping
    # its connection, so a connection is reused by every request instead of being opened for
    # each; health checks drop one the server closed while it sat idle (trygg.database.request_begins).
    DATABASES = {
        "default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)
    }
    if os.environ.get("TRYGG_DB_POOL"):
        # psycopg's pool (its ``pool`` extra) of at most this many connections per process instead
        # of a kept connection per thread; Django returns the connection to it after each request
        # (so no CONN_MAX_AGE). Not measurably faster than kept connections here (docs/scaling.md):
        # for deployments whose connection count matters more than latency.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1, "max_size": int(os.environ["TRYGG_DB_POOL"]), "timeout": 10}
    # Parallel developers and CI runs on one server each get their own test database.
    if os.environ.get("TRYGG_TEST_DB_NAME"):
        DATABASES["default"]["TEST"] = {"NAME": os.environ["TRYGG_TEST_DB_NAME"]}
else:
    DATABASES = {
        "default": {
            # Django's backend plus in-process queuing of writers (see trygg/sqlite/base.py).
            "ENGINE": "trygg.sqlite",
            "NAME": DATA_DIR_DB,
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # WAL lets readers run beside one writer; IMMEDIATE makes writers queue on the
                # busy timeout instead of failing with "database is locked" on upgrade.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "directory.Person"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

PASSWORD_HASHERS = [
    # Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane); hashes made with Django's
    # defaults (100 MiB, 8 lanes) still verify and are rehashed at the next sign-in.
    "trygg.directory.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": os.environ.get("TRYGG_CHANNEL_PREFIX", "trygg"),
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("TRYGG_CHANNEL_PREFIX", "trygg"),
        }
    }
else:
    # Channels' in-memory layer, without its per-message sweeps of every socket (trygg/realtime.py).
    CHANNEL_LAYERS = {"default": {"BACKEND": "trygg.realtime.ProcessChannelLayer", "CONFIG": {"capacity": 1000}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "trygg"}}

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norwegian Bokmål")), ("da", _("Danish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TRYGG_TIME_ZONE", "Europe/Oslo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# collectstatic target for deployments behind a proxy; the app serves static files itself otherwise.
STATIC_ROOT = os.environ.get("TRYGG_STATIC_ROOT") or None
# Served from the apps' static folders by WhiteNoise: no collectstatic step for the embedded demo.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
# Uploads are served only through views that check access, never as public files.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
TRYGG_API_MAX_BODY = int(os.environ.get("TRYGG_API_MAX_BODY", 1024 * 1024))
# Multipart bodies carry files (chat attachments, case evidence): a phone photo is 2-5 MB. Each
# upload action still enforces its own per-file limit with 413.
TRYGG_API_MAX_UPLOAD_BODY = int(os.environ.get("TRYGG_API_MAX_UPLOAD_BODY", 24 * 1024 * 1024))

# Security: cookies and headers safe by default; TLS-only settings follow TRYGG_HTTPS.
HTTPS = env_bool("TRYGG_HTTPS")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# Under TLS the cookies carry the __Host- prefix: the browser then accepts them only over HTTPS,
# for this host alone (no Domain), on path /, so a sibling subdomain cannot plant or shadow them.
SESSION_COOKIE_NAME = "__Host-sessionid" if HTTPS else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if HTTPS else "csrftoken"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx and the ES modules read it to send X-CSRFToken
SESSION_COOKIE_AGE = 12 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = HTTPS and not env_bool("TRYGG_BEHIND_PROXY_NO_REDIRECT")
SECURE_HSTS_SECONDS = int(os.environ.get("TRYGG_HSTS_SECONDS", 31536000 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# Preloading commits the domain to HTTPS in browsers for months; only the operator can promise that.
SECURE_HSTS_PRELOAD = HTTPS and env_bool("TRYGG_HSTS_PRELOAD")
# Django's deploy check asks for preload; here it is the operator's choice (TRYGG_HSTS_PRELOAD=1).
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if env_bool("TRYGG_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:", "mediastream:"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Notices by e-mail (README "Notices: e-mail and SMS"). Every setting a municipality's mail relay
# needs: host, port, STARTTLS or implicit TLS, login, timeout; the file backend's folder.
EMAIL_BACKEND = os.environ.get("TRYGG_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("TRYGG_FROM_EMAIL", "trygg@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = os.environ.get("TRYGG_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("TRYGG_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("TRYGG_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("TRYGG_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("TRYGG_EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("TRYGG_EMAIL_USE_SSL")
EMAIL_SSL_CERTFILE = os.environ.get("TRYGG_EMAIL_SSL_CERTFILE") or None
EMAIL_SSL_KEYFILE = os.environ.get("TRYGG_EMAIL_SSL_KEYFILE") or None
EMAIL_TIMEOUT = float(os.environ.get("TRYGG_EMAIL_TIMEOUT", "20"))
EMAIL_FILE_PATH = os.environ.get("TRYGG_EMAIL_FILE_PATH") or str(DATA_DIR / "mail")
# The Date header carries the server's offset (+0100), not "-0000" ("zone unknown").
EMAIL_USE_LOCALTIME = True

# Notices by text message: a backend class, and for the HTTP gateway its address, login and the
# JSON body its API wants (placeholders {to}, {msisdn}, {text}, {sender}; see README).
TRYGG_SMS_BACKEND = os.environ.get("TRYGG_SMS_BACKEND", "trygg.notifications.sms.LoggingSmsBackend")
TRYGG_SMS_GATEWAY_URL = os.environ.get("TRYGG_SMS_GATEWAY_URL", "")
TRYGG_SMS_GATEWAY_TOKEN = os.environ.get("TRYGG_SMS_GATEWAY_TOKEN", "")
TRYGG_SMS_GATEWAY_USER = os.environ.get("TRYGG_SMS_GATEWAY_USER", "")
TRYGG_SMS_GATEWAY_PASSWORD = os.environ.get("TRYGG_SMS_GATEWAY_PASSWORD", "")
TRYGG_SMS_GATEWAY_BODY = os.environ.get("TRYGG_SMS_GATEWAY_BODY", '{"to": "{to}", "text": "{text}"}')
TRYGG_SMS_GATEWAY_TIMEOUT = float(os.environ.get("TRYGG_SMS_GATEWAY_TIMEOUT", "10"))
TRYGG_SMS_SENDER = os.environ.get("TRYGG_SMS_SENDER", "Trygg")

# Absolute links (trygg.links): the operator's public address if set; else the request's host, or
# outside a request the address `trygg demo`/`serve` listens on (which it puts in TRYGG_LISTEN_URL).
TRYGG_PUBLIC_URL = os.environ.get("TRYGG_PUBLIC_URL", "")
TRYGG_LISTEN_URL = os.environ.get("TRYGG_LISTEN_URL", "")

# WebRTC: STUN/TURN servers handed to meeting participants. JSON list of RTCIceServer dicts.
TRYGG_ICE_SERVERS = os.environ.get("TRYGG_ICE_SERVERS", "[]")

# Class video (issue 16): Janus servers (VideoRoom) for meetings larger than a talk, as a comma list
# of their API addresses as Trygg reaches them (``http://127.0.0.1:8088/janus``); rooms are spread
# over them. TRYGG_JANUS_PUBLIC_URL is the same list as browsers reach them (through the TLS proxy),
# in the same order; empty means the same addresses. TRYGG_JANUS_ADMIN_KEY is the VideoRoom
# ``admin_key`` without which Janus creates no room. No server: large meetings use the mesh and the
# organiser is warned. ``trygg demo`` starts its own Janus when the Debian package is installed.
TRYGG_JANUS_URL = [u.strip() for u in os.environ.get("TRYGG_JANUS_URL", "").split(",") if u.strip()]
TRYGG_JANUS_PUBLIC_URL = [u.strip() for u in os.environ.get("TRYGG_JANUS_PUBLIC_URL", "").split(",") if u.strip()]
TRYGG_JANUS_ADMIN_KEY = os.environ.get("TRYGG_JANUS_ADMIN_KEY", "")
TRYGG_JANUS_TIMEOUT = float(os.environ.get("TRYGG_JANUS_TIMEOUT", "3"))

# Threads per process that run sync views on PostgreSQL, each with a connection of its own
# (trygg/asgi.py, issue 15): a send waiting on a PostgreSQL round trip no longer holds up every
# other request of its process. 0 keeps asgiref's one shared thread. SQLite always keeps the
# shared thread (one writer at a time; more threads would only queue on its write lock).
TRYGG_DB_THREADS = int(os.environ.get("TRYGG_DB_THREADS", "4" if os.environ.get("DATABASE_URL") else "0"))

# Real time. The hub's sweep reads the stream heads of every listener of the process this often, so
# a lost last push is caught even when nothing follows it (one query per process, trygg.events.hub);
# a meeting socket re-reads its join this often.
TRYGG_EVENTS_POLL_SECONDS = float(os.environ.get("TRYGG_EVENTS_POLL_SECONDS", "5"))
# The server pings every socket this often (and closes one that does not answer within as long), so
# a phone that vanished is let go and proxies see traffic. Each ping costs the event loop about
# 0.13 ms with its answer: at 20 s, 10,000 idle sockets held 6.7 % of a core in pings alone
# (bench/bench_idle_sockets.py); 30 s is what chat servers commonly use, under the 60 s a proxy
# such as nginx waits by default.
TRYGG_WS_PING_SECONDS = float(os.environ.get("TRYGG_WS_PING_SECONDS", "30"))
TRYGG_MEETING_RECHECK_SECONDS = float(os.environ.get("TRYGG_MEETING_RECHECK_SECONDS", "2"))

# Abuse limits (docs/security.md). ``TRYGG_RATE_LIMITS=off`` lifts the send, preview, socket and
# signalling limits, for benchmarks only (as the peer benchmark lifts Synapse's); sign-in
# throttling stays on whatever it says.
TRYGG_RATE_LIMITS = os.environ.get("TRYGG_RATE_LIMITS", "on").strip().lower() not in {"off", "0", "false", "no"}
# Sockets: the largest frame (bigger ones close with 1009 before they are decoded), the largest and
# latest first frame of a socket that is not signed in yet, sockets per person (the oldest closes),
# and sockets not yet signed in per client address (a school's NAT holds hundreds of people).
TRYGG_SOCKET_MAX_FRAME_BYTES = int(os.environ.get("TRYGG_SOCKET_MAX_FRAME_BYTES", 64 * 1024))
TRYGG_SOCKET_FIRST_FRAME_BYTES = int(os.environ.get("TRYGG_SOCKET_FIRST_FRAME_BYTES", 4096))
TRYGG_SOCKET_FIRST_FRAME_SECONDS = float(os.environ.get("TRYGG_SOCKET_FIRST_FRAME_SECONDS", "5"))
TRYGG_SOCKETS_PER_PERSON = int(os.environ.get("TRYGG_SOCKETS_PER_PERSON", 10))
TRYGG_SOCKETS_UNSIGNED_PER_ADDRESS = int(os.environ.get("TRYGG_SOCKETS_UNSIGNED_PER_ADDRESS", 256))
# With Redis, each process says this often that its sockets are alive; a socket not heard of for
# three beats (a killed process's) stops counting against its person's cap (trygg.events.cap).
TRYGG_SOCKETS_HEARTBEAT_SECONDS = float(os.environ.get("TRYGG_SOCKETS_HEARTBEAT_SECONDS", 30))
# WebRTC signalling frames per meeting peer: a sustained rate and a burst (an offer with its ICE
# candidates is a few dozen frames).
TRYGG_SIGNALS_PER_SECOND = float(os.environ.get("TRYGG_SIGNALS_PER_SECOND", 20))
TRYGG_SIGNALS_BURST = int(os.environ.get("TRYGG_SIGNALS_BURST", 100))

# Messages and attachments: the longest text and the largest file accepted.
TRYGG_MESSAGE_MAX_CHARS = int(os.environ.get("TRYGG_MESSAGE_MAX_CHARS", "4000"))
TRYGG_ATTACHMENT_MAX_BYTES = int(os.environ.get("TRYGG_ATTACHMENT_MAX_BYTES", 8 * 1024 * 1024))
# Images are decoded only within these (a 48 MP phone photo fits; a "pixel flood" does not).
TRYGG_IMAGE_MAX_SIDE = int(os.environ.get("TRYGG_IMAGE_MAX_SIDE", 12000))
TRYGG_IMAGE_MAX_PIXELS = int(os.environ.get("TRYGG_IMAGE_MAX_PIXELS", 50_000_000))
# A chat notice waits this long, so a message read at once sends nothing out of the app.
TRYGG_NOTICE_DELAY_SECONDS = float(os.environ.get("TRYGG_NOTICE_DELAY_SECONDS", "60"))

# Web Push (trygg.notifications.push). The VAPID key pair is made once per installation and kept in
# TRYGG_DATA_DIR; the subject tells push services whom to contact about this server.
TRYGG_VAPID_SUBJECT = os.environ.get("TRYGG_VAPID_SUBJECT") or f"mailto:{DEFAULT_FROM_EMAIL}"
# Push services are https; a plain-http endpoint is accepted only for tests with a local endpoint.
TRYGG_PUSH_ALLOW_HTTP_ENDPOINTS = env_bool("TRYGG_PUSH_ALLOW_HTTP_ENDPOINTS")
TRYGG_PUSH_TIMEOUT = float(os.environ.get("TRYGG_PUSH_TIMEOUT", "10"))
TRYGG_PUSH_MAX_DEVICES = int(os.environ.get("TRYGG_PUSH_MAX_DEVICES", "10"))

# requirements.md for `trygg policy coverage`; empty: ../shared/requirements.md beside the checkout.
TRYGG_REQUIREMENTS = os.environ.get("TRYGG_REQUIREMENTS", "")
TRYGG_LOG_LEVEL = os.environ.get("TRYGG_LOG_LEVEL", "INFO").upper()
# uvicorn's line per request; off by default: the proxy in front keeps access lines (trygg.logsafe).
TRYGG_ACCESS_LOG = env_bool("TRYGG_ACCESS_LOG")

# Sign-in throttling without lockout (directory/actions.py, docs/security.md): after ``account_free``
# failures of an account or ``address_free`` of an address within ``window_seconds``, every answer
# waits a delay that doubles from 0.25 s up to ``max_delay``; a known device skips it. Past
# ``daily_ceiling`` failures of an account in a day, an unknown device needs the second factor.
# Not lifted by TRYGG_RATE_LIMITS=off.
# A browser that signed in to an account before carries this cookie and skips the delay.
TRYGG_DEVICE_COOKIE = "__Host-trygg_device" if HTTPS else "trygg_device"
LOGIN_THROTTLE = {
    "account_free": int(os.environ.get("TRYGG_LOGIN_FREE_PER_ACCOUNT", 3)),
    "address_free": int(os.environ.get("TRYGG_LOGIN_FREE_PER_ADDRESS", 20)),
    "max_delay": float(os.environ.get("TRYGG_LOGIN_MAX_DELAY", 3)),
    "daily_ceiling": int(os.environ.get("TRYGG_LOGIN_DAILY_CEILING", 100)),
    "window_seconds": int(os.environ.get("TRYGG_LOGIN_WINDOW", 900)),
}

# Sign-in (trygg.signin). Identities from providers are stored as HMACs under this key; changing it
# unlinks every identity, so production sets its own once and keeps it.
TRYGG_IDENTITY_KEY = os.environ.get("TRYGG_IDENTITY_KEY") or f"identity:{SECRET_KEY}"
# Seconds to wait for a provider's discovery, keys and token endpoint.
TRYGG_OIDC_TIMEOUT = float(os.environ.get("TRYGG_OIDC_TIMEOUT", 10))
# The demo's own OpenID provider (a Node.js program, ``demo-idp/`` in the checkout), started by
# ``trygg demo`` and the tests; ``make run`` installs it with npm ci.
TRYGG_DEMO_IDP_DIR = Path(os.environ.get("TRYGG_DEMO_IDP_DIR") or REPO_DIR / "demo-idp")
TRYGG_NODE = os.environ.get("TRYGG_NODE", "node")
OTP_TOTP_ISSUER = "Trygg"
# A code from a clock a step off is accepted (tolerance 1) without moving the device's window.
OTP_TOTP_SYNC = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"secrets": {"()": "trygg.logsafe.RedactSecrets"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["secrets"]}},
    "root": {"handlers": ["console"], "level": TRYGG_LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
