"""Settings for the voucher project. Everything that differs per deployment comes from the
environment (see .env.example); defaults are the safe, production ones."""

import os
from datetime import timedelta
from pathlib import Path

from django.conf import global_settings
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from config.env import database_from_url, env_bool, env_int, env_list, env_str, load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "insecure-dev-key" if DEBUG else None)
# Rotating SECRET_KEY: put the old key here (comma-separated) until sessions, password-reset links
# and signed cookies made with it have expired; then drop it.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
# PINs and terminal passwords are hashed with their own key: rotating SECRET_KEY keeps them working.
PIN_HASH_KEY = env_str("PIN_HASH_KEY", SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Named in the registration mail (where the merchant manual is); empty: not mentioned.
MERCHANT_MANUAL_URL = env_str("MERCHANT_MANUAL_URL", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_email",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_tasks_db",
    "core",
    "merchants",
    "wallets",
    "payments",
    "settlement",
]

MIDDLEWARE = [
    "core.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # core.middleware's three are Django's own, passed by on the POS API, which has no cookies.
    "core.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.MessageMiddleware",
    "merchants.portal.staff.StaffSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# A form without its CSRF token gets its audience's Japanese 403 page (config/errors.py).
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", "postgres://voucher:voucher@127.0.0.1:5432/voucher")
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Through PgBouncer in transaction pooling: no server-side cursors (a cursor outlives the
# transaction's server connection). The worker and manage.py commands connect directly, so their
# .iterator() loops stay bounded in memory (docs/operations.md, "Scaling").
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(
    "DB_DISABLE_SERVER_SIDE_CURSORS", False
)
# A streaming replica for heavy reads (core/db.py), with a fallback to the primary past the lag.
if replica_url := env_str("DATABASE_REPLICA_URL", ""):
    DATABASES["replica"] = database_from_url(replica_url) | {
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["core.db.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 10)
REPLICA_CHECK_SECONDS = env_int("REPLICA_CHECK_SECONDS", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "merchants.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [*global_settings.PASSWORD_HASHERS, "wallets.hashers.PinHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "merchants.validators.MixedCharactersValidator"},
    {"NAME": "merchants.validators.NotRecentPasswordValidator"},
]

# Japanese first, English available; all times shown in Japan.
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
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
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# Security: secure cookies and HSTS unless DEBUG; SECURE_COOKIES=false for plain-http demos.
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# Submitting the domain to the browsers' preload list makes HTTPS-only permanent: on by default.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "media-src": [CSP.SELF, "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 8)

LOGIN_URL = "admin:login"

# Failed sign-ins (docs/security.md): django-axes gives the quick limit per (account, address) only,
# so no address can lock an account for anyone else, and a try during the lock does not renew it.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Proxies in front that append to X-Forwarded-For; core.http.client_address reads it for everyone.
AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "core.http.client_address"

# E-mail: EMAIL_BACKEND=smtp (default), filebased (writes to EMAIL_FILE_PATH) or console.
EMAIL_BACKEND_KIND = env_str("EMAIL_BACKEND", "smtp")
MAILERS = {
    "default": {
        "BACKEND": f"django.core.mail.backends.{EMAIL_BACKEND_KIND}.EmailBackend",
        "OPTIONS": {
            "smtp": {
                "host": env_str("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 25),
                "username": env_str("EMAIL_HOST_USER", ""),
                "password": env_str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "timeout": 10,
            },
            "filebased": {
                "file_path": env_str("EMAIL_FILE_PATH", str(BASE_DIR / "media" / "outbox"))
            },
        }.get(EMAIL_BACKEND_KIND, {}),
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "voucher@localhost")
OTP_EMAIL_TOKEN_VALIDITY = 300

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# The worker (`manage.py run_worker`) beats this often; /readyz fails after this much silence.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10)
WORKER_MAX_SILENCE_SECONDS = env_int("WORKER_MAX_SILENCE_SECONDS", 60)

# Logs (docs/operations.md): text or one JSON object per line (LOG_FORMAT=json), each with the
# request id; every handler scrubs PINs, passwords, codes, tokens and keys. gunicorn's own access
# log is not needed: core.logs.RequestLogMiddleware writes one line per request.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.logs.RequestIdFilter"},
        "scrub": {"()": "core.logs.ScrubFilter"},
    },
    "formatters": {
        "text": {"()": "core.logs.TextFormatter"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["request_id", "scrub"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # Django's own copies of every request line: the access line above already says it.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "voucher.request": {"level": env_str("ACCESS_LOG_LEVEL", "INFO")},
    },
}
AXES_VERBOSE = False

# Who is mailed when the nightly check_ledger (manage.py housekeeping) finds a violation.
ADMINS = env_list("ADMINS")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Days kept by manage.py housekeeping: finished background-task results, sign-in logs (django-axes).
HOUSEKEEPING_DAYS = {
    "task_results": env_int("TASK_RESULT_DAYS", 14),
    "access_logs": env_int("ACCESS_LOG_DAYS", 90),
}

# prometheus-client switches to multiprocess files when the variable exists at all, even empty.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
# Prometheus at /metrics, only with "Authorization: Bearer <METRICS_TOKEN>"; 404 while unset.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# Error reports to Sentry when SENTRY_DSN is set: no personal data, the log scrubbing applied.
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    from core.logs import sentry_before_send

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        before_send=sentry_before_send,
        traces_sample_rate=0,
    )

# --- Merchant admin ---
# No "ip_address" lock: it would shut out every account behind a shop's shared address. The
# per-address budget is merchants.portal.security.address_throttled: it refuses more tries from that
# address and locks nobody.
AXES_LOCKOUT_CALLABLE = "merchants.portal.views.auth.locked_out"
# Failed sign-ins (password or e-mailed code) from one address, any account, within the cool-off.
MERCHANT_ADDRESS_FAILURE_LIMIT = env_int("MERCHANT_ADDRESS_FAILURE_LIMIT", 20)
# Consecutive failures on one account from unknown devices, ever; then only a password reset by
# e-mail or an unlock by city staff or the company admin opens it (NIST SP 800-63B 3.2.2: at most 100).
MERCHANT_ACCOUNT_FAILURE_LIMIT = env_int("MERCHANT_ACCOUNT_FAILURE_LIMIT", 100)
# The signed cookie that marks a browser where the account passed the e-mailed code.
MERCHANT_KNOWN_DEVICE_DAYS = env_int("MERCHANT_KNOWN_DEVICE_DAYS", 90)
MERCHANT_IDLE_SECONDS = env_int("MERCHANT_IDLE_MINUTES", 30) * 60
OTP_EMAIL_SUBJECT = _("Your sign-in code")
OTP_EMAIL_BODY_TEMPLATE_PATH = "merchants/emails/otp_code_body.txt"
OTP_EMAIL_BODY_HTML_TEMPLATE_PATH = "merchants/emails/otp_code_body.html"
OTP_EMAIL_COOLDOWN_DURATION = env_int("OTP_EMAIL_COOLDOWN_SECONDS", 60)
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
# The registration mail's link to set a first password (merchants.tokens).
WELCOME_LINK_TIMEOUT = 72 * 60 * 60
MERCHANT_EXPORT_DAYS = env_int("MERCHANT_EXPORT_DAYS", 7)

# --- Django admin (city staff, docs/security.md) ---
# Every admin page needs a verified second factor; 30 idle minutes end a staff session; money
# actions need a second-factor check within the last 10 minutes (core.verification).
STAFF_IDLE_SECONDS = env_int("STAFF_IDLE_MINUTES", 30) * 60
STAFF_FRESH_SECONDS = env_int("STAFF_FRESH_MINUTES", 10) * 60
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "電子チケット")
STAFF_BACKUP_CODES = 10
