"""Django settings, read from GARDE_* environment variables and DATABASE_URL (see docs/deploy.md).

With no variable at all Garde runs embedded: SQLite in WAL mode and a generated secret key, both kept
in the data directory.
"""

import secrets
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from garde.lib.env import (
    SettingError,
    env_bool,
    env_dir,
    env_int,
    env_list,
    env_str,
    secret_from_env_or_file,
)

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = env_dir("GARDE_DATA_DIR", Path.home() / ".local" / "share" / "garde")
MEDIA_ROOT = env_dir("GARDE_MEDIA_DIR", DATA_DIR / "media")

DEBUG = env_bool("GARDE_DEBUG", False)
SECRET_KEY = secret_from_env_or_file(
    "GARDE_SECRET_KEY", DATA_DIR / "secret_key", lambda: secrets.token_urlsafe(50)
)
ALLOWED_HOSTS = env_list("GARDE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("GARDE_CSRF_TRUSTED_ORIGINS", [])
SITE_NAME = env_str("GARDE_SITE_NAME", "Garde")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks_db",
    "garde.accounts",
    "garde.cell",
    "garde.systems",
    "garde.continuity",
    "garde.frontdesk",
    "garde.breach",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "garde.accounts.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "garde.accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "garde.urls"
WSGI_APPLICATION = "garde.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "garde.accounts.context_processors.site",
            ],
        },
    }
]


def _database_settings() -> dict:
    url = env_str("DATABASE_URL")
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "garde.sqlite3",
            # IMMEDIATE takes the write lock when a transaction starts, so concurrent writers of the
            # running log queue up instead of failing half-way; WAL lets readers go on meanwhile.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    try:
        config = dj_database_url.parse(url, conn_max_age=60)
    except Exception as exc:  # dj-database-url raises several kinds for one cause: a bad URL
        raise SettingError(f"DATABASE_URL is not a database URL Garde understands ({exc}).") from None
    if config["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise SettingError("DATABASE_URL must point to PostgreSQL (postgres://...) or SQLite (sqlite:///...).")
    return config


DATABASES = {"default": _database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("GARDE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("GARDE_LOGIN_COOLOFF_MINUTES", 15, minimum=1) / 60
# Lock by account, not by address: the whole cell often sits behind one hospital proxy address, and an
# attacker locking that address would lock the cell out of its own tool.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("GARDE_TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = env_dir("GARDE_STATIC_DIR", DATA_DIR / "static")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

# Attachments of the running log: evidence, so bounded and typed rather than anything at all.
GARDE_MAX_ATTACHMENT_BYTES = env_int("GARDE_MAX_ATTACHMENT_MB", 20, minimum=1, maximum=2048) * 1024 * 1024
GARDE_ATTACHMENT_EXTENSIONS = env_list(
    "GARDE_ATTACHMENT_EXTENSIONS",
    ["pdf", "png", "jpg", "jpeg", "txt", "log", "csv", "json", "eml", "msg", "odt", "ods", "docx", "xlsx", "zip"],
)

TASKS = {
    "default": {
        "BACKEND": env_str("GARDE_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("GARDE_SESSION_HOURS", 12, minimum=1) * 3600
if not DEBUG:
    # Behind a TLS-terminating proxy in production; GARDE_INSECURE_HTTP=yes is for the laptop demo only.
    _insecure_http = env_bool("GARDE_INSECURE_HTTP", False)
    SESSION_COOKIE_SECURE = not _insecure_http
    CSRF_COOKIE_SECURE = not _insecure_http
    SECURE_HSTS_SECONDS = 0 if _insecure_http else 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = not _insecure_http
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("GARDE_BEHIND_PROXY", False) else None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("GARDE_LOG_LEVEL", "WARNING")},
}
