"""Settings come from the environment; production settings refuse to start when unsafe.

Each case runs Django in a subprocess with a controlled environment (settings are read once per
process), with ENV_FILE="" so a developer's .env cannot change the outcome and a throw-away SQLite
path so nothing touches the dev server's db.sqlite3.
"""
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = secrets.token_urlsafe(50)  # 67 random characters
# Variables the settings read; removed from the inherited environment so each case starts clean.
SETTINGS_VARS = {
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL", "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER", "CELERY_RESULT_BACKEND", "CACHE_URL", "EMAIL_URL", "EMAIL_BACKEND",
    "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "AWS_S3_REGION_NAME", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "SESSION_IDLE_MINUTES", "AXES_FAILURE_LIMIT", "TRUSTED_PROXY_COUNT", "IMPORT_MAX_ROWS", "SECURE_SSL_REDIRECT",
    "STATIC_ROOT", "MEDIA_ROOT", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "ENV_FILE",
}

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.files.storage import storages
from khuyencong.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "debug": settings.DEBUG,
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "broker": settings.CELERY_BROKER_URL, "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "celery_broker": app.conf.broker_url, "celery_eager": app.conf.task_always_eager,
    "storage": settings.STORAGES["default"]["BACKEND"],
    "storage_class": type(storages["default"]).__name__,
    "bucket": getattr(storages["default"], "bucket_name", None),
    "language": settings.LANGUAGE_CODE, "languages": [code for code, _ in settings.LANGUAGES],
    "time_zone": settings.TIME_ZONE, "use_tz": settings.USE_TZ,
    "cache": settings.CACHES["default"]["BACKEND"],
    "hasher": settings.PASSWORD_HASHERS[0],
}))
"""


def run_django(args, tmp_path, **env_vars):
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS and not k.startswith("AWS_")}
    env.update(
        ENV_FILE="",
        DJANGO_SETTINGS_MODULE="khuyencong.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'settings-test.sqlite3'}",
        PYTHONPATH=str(ROOT),
    )
    env.update({k: v for k, v in env_vars.items() if v is not None})
    for key, value in env_vars.items():
        if value is None:
            env.pop(key, None)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def probe(tmp_path, **env_vars):
    proc = run_django(["-c", PROBE], tmp_path, **env_vars)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def production(**overrides):
    return {"DEBUG": "False", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "khuyencong.moit.gov.vn", **overrides}


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "setting", "fragment"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY", "khóa mặc định"),
        ({"SECRET_KEY": "dev-only-insecure-secret-key-change-me"}, "SECRET_KEY", "khóa mặc định"),
        ({"SECRET_KEY": ""}, "SECRET_KEY", "để trống"),
        ({"SECRET_KEY": "ngan-qua-1234567890"}, "SECRET_KEY", "ít nhất 50 ký tự"),
        ({"SECRET_KEY": "a" * 60}, "SECRET_KEY", "ít nhất 50 ký tự"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS", "ít nhất một tên miền"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS", "ít nhất một tên miền"),
    ],
    ids=["secret-unset", "secret-default", "secret-empty", "secret-short", "secret-one-char", "hosts-empty", "hosts-unset"],
)
def test_production_refuses_to_start_naming_the_setting(tmp_path, overrides, setting, fragment):
    proc = run_django(["manage.py", "check"], tmp_path, **production(**overrides))
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr
    last_line = proc.stderr.strip().splitlines()[-1]
    assert f"ImproperlyConfigured: {setting}:" in last_line
    assert fragment in last_line


def test_wsgi_application_refuses_too(tmp_path):
    """gunicorn imports khuyencong.wsgi: the same refusal, not a half-configured server."""
    proc = run_django(["-c", "import khuyencong.wsgi"], tmp_path, **production(SECRET_KEY=None))
    assert proc.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY:" in proc.stderr


def test_debug_on_accepts_the_development_defaults(tmp_path):
    proc = run_django(["manage.py", "check"], tmp_path, DEBUG="True")
    assert proc.returncode == 0, proc.stderr


def test_check_deploy_is_clean_for_production_settings(tmp_path):
    proc = run_django(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **production())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_check_deploy_catches_a_weakened_production_setting(tmp_path):
    """The deploy check is a real gate: turning off the HTTPS redirect makes it fail."""
    proc = run_django(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **production(SECURE_SSL_REDIRECT="False")
    )
    assert proc.returncode != 0
    assert "security.W008" in proc.stderr + proc.stdout


# --- engines from the environment -------------------------------------------------------------


def test_nothing_set_means_sqlite_and_eager_celery(tmp_path):
    found = probe(tmp_path, DATABASE_URL=None)
    assert found["debug"] is True
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(ROOT / "db.sqlite3")
    assert found["broker"] == "memory://"
    assert found["eager"] is True and found["celery_eager"] is True
    assert found["storage"] == "django.core.files.storage.FileSystemStorage"
    assert found["cache"] == "django.core.cache.backends.locmem.LocMemCache"


def test_empty_urls_mean_not_set(tmp_path):
    """``DATABASE_URL=`` and ``CELERY_BROKER_URL=`` (empty, as in a copied .env) fall back to the defaults."""
    found = probe(tmp_path, DATABASE_URL="", CELERY_BROKER_URL="")
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["broker"] == "memory://" and found["eager"] is True


def test_database_and_broker_urls_switch_to_the_real_services(tmp_path):
    found = probe(
        tmp_path,
        DATABASE_URL="postgres://kc:secret@db.internal:5432/khuyencong",
        CELERY_BROKER_URL="redis://redis.internal:6379/0",
        CACHE_URL="redis://redis.internal:6379/1",
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert (found["host"], found["name"]) == ("db.internal", "khuyencong")
    assert found["broker"] == found["celery_broker"] == "redis://redis.internal:6379/0"
    assert found["eager"] is False and found["celery_eager"] is False
    assert found["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_bucket_name_selects_s3_compatible_storage(tmp_path):
    found = probe(
        tmp_path,
        AWS_STORAGE_BUCKET_NAME="kc-tep",
        AWS_S3_ENDPOINT_URL="https://s3.example.vn",
        AWS_ACCESS_KEY_ID="kc",
        AWS_SECRET_ACCESS_KEY="kc-secret",
    )
    assert found["storage"] == "storages.backends.s3.S3Storage"
    assert found["storage_class"] == "S3Storage"
    assert found["bucket"] == "kc-tep"


def test_language_and_time_zone(tmp_path):
    found = probe(tmp_path)
    assert found["language"] == "vi"
    assert found["languages"] == ["vi", "en"]
    assert found["time_zone"] == "Asia/Ho_Chi_Minh"
    assert found["use_tz"] is True


def test_passwords_are_stored_with_a_slow_hasher(tmp_path):
    """The suite hashes with MD5 for speed (tests/conftest.py); the portal itself must not."""
    from django.conf import settings

    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert probe(tmp_path)["hasher"] in {
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    }


def test_the_test_suite_itself_does_not_use_the_dev_database(db):
    """pytest-django runs on its own test database, never the dev server's db.sqlite3."""
    from django.db import connection

    assert connection.settings_dict["NAME"] != str(ROOT / "db.sqlite3")
