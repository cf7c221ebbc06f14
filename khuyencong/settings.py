"""Settings for Cổng khuyến công, read from the environment (django-environ).

With nothing set the portal runs on SQLite with Celery tasks executed eagerly in-process: the
zero-setup default for ``make run`` and a first ``make test``. ``DATABASE_URL=postgres://…`` and
``CELERY_BROKER_URL=redis://…`` switch to the real services. See docs/configuration.md.
"""
import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Variables already in the environment win over the file. ENV_FILE names another file; ENV_FILE=""
# reads none (the settings tests use that so a developer's .env cannot change their outcome).
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).exists():
    environ.Env.read_env(ENV_FILE, overwrite=False)

# Used only when DEBUG is on; with DEBUG off the portal refuses to start with it.
DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key-change-me"

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=DEFAULT_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


# Django's own check (security.W009) asks for at least 50 characters and 5 distinct ones.
SECRET_KEY_MIN_LENGTH = 50


def check_production_settings(*, debug, secret_key, allowed_hosts):
    """Refuse to start a production (DEBUG off) process on unsafe settings, naming the setting."""
    if debug:
        return
    if not secret_key or secret_key == DEFAULT_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY: với DEBUG=False phải đặt SECRET_KEY riêng (đang để trống hoặc dùng khóa mặc định). "
            'Tạo khóa: python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    if len(secret_key) < SECRET_KEY_MIN_LENGTH or len(set(secret_key)) < 5 or secret_key.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            f"SECRET_KEY: với DEBUG=False khóa phải dài ít nhất {SECRET_KEY_MIN_LENGTH} ký tự ngẫu nhiên "
            f"(hiện dài {len(secret_key)} ký tự)."
        )
    if not [host for host in allowed_hosts if host.strip()]:
        raise ImproperlyConfigured("ALLOWED_HOSTS: với DEBUG=False phải khai báo ít nhất một tên miền (cách nhau bằng dấu phẩy).")


check_production_settings(debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_filters",
    "django_htmx",
    "simple_history",
    "import_export",
    "khuyencong",
    "projects",
    "funding",
    "reports",
    "dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "khuyencong.middleware.PortalLocaleMiddleware",  # Vietnamese unless English was chosen: not Accept-Language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "khuyencong.middleware.RejectNulMiddleware",  # %00 in the path or query: 400, never a database error
    "khuyencong.middleware.PrivatePagesMiddleware",  # a signed-in user's pages: private, no-store
    "khuyencong.middleware.ContentSecurityPolicyMiddleware",  # scripts from the portal's static files only
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "khuyencong.urls"
WSGI_APPLICATION = "khuyencong.wsgi.application"

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
                "khuyencong.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# An empty DATABASE_URL (e.g. "DATABASE_URL=" in a .env) means "not set", like a missing one.
DATABASES = {"default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The zero-set-up SQLite database ignores INCLUDE columns of covering indexes (PostgreSQL only);
    # the index still works as a plain one there. Say nothing about it to a newcomer's `make run`.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users, login, lockout, sessions --------------------------------------------------------
AUTH_USER_MODEL = "khuyencong.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Lock out after AXES_FAILURE_LIMIT failures for the same user name, or from the same client
# address. The address (khuyencong.security.client_address) is REMOTE_ADDR, or behind
# TRUSTED_PROXY_COUNT reverse proxies the X-Forwarded-For entry the farthest of them wrote — never
# what the client wrote itself, so rotating that header neither escapes nor resets the lockout.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "khuyencong.security.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_VERBOSE = False
# «Quên mật khẩu»: the link mailed to an account's address works once, for PASSWORD_RESET_MINUTES;
# one client address, and one e-mail address, may ask PASSWORD_RESET_LIMIT times an hour
# (khuyencong.security.over_rate_limit, in the shared cache).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_MINUTES", default=60) * 60
PASSWORD_RESET_LIMIT = env.int("PASSWORD_RESET_LIMIT", default=5)
# «Thư mời đặt mật khẩu»: the link an administrator has mailed to a new account works once, until its
# holder sets a password or signs in, for ACCOUNT_INVITATION_DAYS (khuyencong.tokens).
ACCOUNT_INVITATION_DAYS = env.int("ACCOUNT_INVITATION_DAYS", default=7)
# Idle timeout: the session expires SESSION_IDLE_MINUTES after the last request.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Language, time -------------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("Tiếng Anh"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
# Our own formatting module renders money and dates; keep Django's localisation from turning
# integers in forms and templates into "1.500" that would then be read back as 1,5.
USE_THOUSAND_SEPARATOR = False
FORMAT_MODULE_PATH = ["khuyencong.formats"]  # dates as dd/mm/yyyy (khuyencong/formats/vi)
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]

# --- Static and uploaded files --------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded and generated files are private: there is no public MEDIA_URL route; every download
# goes through a permission-checked view that reads from the storage API.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media-not-served/"
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    # Any S3-compatible store (MinIO, Viettel/FPT/VNPT object storage, AWS) shared by web and workers.
    default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "access_key": env.str("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
# Budget workbooks (funding.importers): at most this many data rows; a bigger sheet is refused before
# anything is written (its string table and preview are held in memory).
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL.startswith("memory://"))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request queues a job or a notification's e-mail on commit; with the broker down, kombu's
# defaults retried the connection 3 times with 2 s + 4 s waits, so every such request hung 6 s before
# the job was left for the beat sweep. One immediate retry, and a bounded connect on an unreachable host.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5,
    "socket_connect_timeout": 2,
}
# reports.run_report: a render may run REPORT_MAX_SECONDS (default 15 min; a national report takes
# seconds). The soft limit raises inside the render (the job fails with the reason and the user gets
# «Tạo lại báo cáo»); the hard limit, 30 s later, ends the worker process if the render does not return
# (stuck in native code). The sweeper fails a job still running after REPORT_MAX_SECONDS whatever its
# heartbeat (reports.services.report_sweep_stuck). Keep it well below the visibility_timeout above.
REPORT_MAX_SECONDS = env.int("REPORT_MAX_SECONDS", default=900)
# One person may have this many of their own reports waiting or rendering at once (joining someone
# else's identical request is always allowed): one account cannot fill the workers' queue.
REPORT_MAX_ACTIVE_PER_USER = env.int("REPORT_MAX_ACTIVE_PER_USER", default=5)
CELERY_TASK_ANNOTATIONS = {
    "reports.run_report": {"soft_time_limit": REPORT_MAX_SECONDS, "time_limit": REPORT_MAX_SECONDS + 30},
}
CELERY_BEAT_SCHEDULE = {
    # reports: sweep jobs whose worker died / re-send jobs queued while the broker was down.
    "reports-sweep-stuck": {"task": "reports.sweep_stuck", "schedule": env.int("REPORT_SWEEP_SECONDS", default=60)},
    # reports: last year's national and provincial annual reports, each January (day/hour from env).
    "reports-annual": {
        "task": "reports.annual_reports",
        "schedule": __import__("celery.schedules", fromlist=["crontab"]).crontab(
            minute=0, hour=env.int("REPORT_ANNUAL_HOUR", default=6),
            day_of_month=env.int("REPORT_ANNUAL_DAY", default=15), month_of_year=1,
        ),
    },
    # projects: notification e-mail still pending a minute after it was written (broker was down,
    # worker died, retry due after a mail-server error) is sent (projects.notifications).
    "notifications-resend": {
        "task": "projects.resend_notification_mail",
        "schedule": env.int("NOTIFICATION_RESEND_SECONDS", default=300),
    },
    # funding: big import batches whose task was lost (broker down at confirmation, Redis restarted,
    # worker died) are handed to the worker again (funding.services.import_sweep_stuck).
    "funding-sweep-imports": {
        "task": "funding.sweep_stuck_imports", "schedule": env.int("IMPORT_SWEEP_SECONDS", default=120),
    },
    # Stored files no row points at any more (an upload whose transaction rolled back, the temporary
    # PDF of a killed worker), older than a day: removed nightly (khuyencong.files).
    "files-sweep-orphans": {
        "task": "khuyencong.sweep_files",
        "schedule": __import__("celery.schedules", fromlist=["crontab"]).crontab(minute=30, hour=env.int("FILE_SWEEP_HOUR", default=3)),
    },
    # One-time keys of create forms (khuyencong.submissions) older than SUBMISSION_KEEP_DAYS: forgotten nightly.
    "form-submissions-sweep": {
        "task": "khuyencong.sweep_form_submissions",
        "schedule": __import__("celery.schedules", fromlist=["crontab"]).crontab(minute=45, hour=env.int("FILE_SWEEP_HOUR", default=3)),
    },
    # Expired sign-in sessions (Django's database sessions are never deleted by themselves): nightly.
    "sessions-clear-expired": {
        "task": "khuyencong.clear_expired_sessions",
        "schedule": __import__("celery.schedules", fromlist=["crontab"]).crontab(minute=50, hour=env.int("FILE_SWEEP_HOUR", default=3)),
    },
}
SUBMISSION_KEEP_DAYS = env.int("SUBMISSION_KEEP_DAYS", default=2)

# A big import batch still waiting for the worker this long after it was handed over is handed over
# again, at most IMPORT_MAX_DISPATCHES times in all (then it goes back to "previewed" with the reason).
IMPORT_RESEND_SECONDS = env.int("IMPORT_RESEND_SECONDS", default=600)
IMPORT_MAX_DISPATCHES = env.int("IMPORT_MAX_DISPATCHES", default=5)

# --- Cache ----------------------------------------------------------------------------------
REDIS_CACHE_URL = env.str("CACHE_URL", default="")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL}
    if REDIS_CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Cổng khuyến công <no-reply@khuyencong.local>")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
# A mail server that does not answer must not hold a worker (and the notification rows it locks) forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# With EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend: the folder mail is written to
# (development, and the test where a real worker mails a «Quên mật khẩu» link).
if env.str("EMAIL_FILE_PATH", default=""):
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH")
# Notification e-mail (projects.notifications): attempts before a mail is marked failed, and the first
# wait before a retry (doubled after each failure, at most 30 minutes).
NOTIFICATION_MAIL_MAX_ATTEMPTS = env.int("NOTIFICATION_MAIL_MAX_ATTEMPTS", default=5)
NOTIFICATION_MAIL_RETRY_SECONDS = env.int("NOTIFICATION_MAIL_RETRY_SECONDS", default=60)

# --- Security (production) ------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.db.backends": {"level": "INFO"},
    },
}

# --- Portal ---------------------------------------------------------------------------------
PORTAL_NAME = "Cổng khuyến công"
# True in CI: a test that needs a missing service or browser fails instead of skipping.
CI = env.bool("CI", default=False)
