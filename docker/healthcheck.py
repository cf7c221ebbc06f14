"""Container health checks: `python docker/healthcheck.py web|worker|beat` exits 0 when healthy.

web     GET /suc-khoe/ (answers only when the database does) with the first ALLOWED_HOSTS name as
        Host and X-Forwarded-Proto: https, as the reverse proxy would send it;
worker  this container's Celery worker answers a ping through the broker;
beat    PID 1 is celery beat and the broker answers.
"""
import os
import socket
import sys
import urllib.request


def web():
    hosts = [h.strip().lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = next((h for h in hosts if "*" not in h), "localhost")
    request = urllib.request.Request(
        f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/suc-khoe/", headers={"Host": host, "X-Forwarded-Proto": "https"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status == 200


def _celery():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "khuyencong.settings")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from khuyencong.celery import app

    return app


def worker():
    app = _celery()
    name = f"celery@{os.environ.get('HOSTNAME') or socket.gethostname()}"
    replies = app.control.ping(destination=[name], timeout=5)
    return any(name in reply for reply in replies)


def beat():
    with open("/proc/1/cmdline", "rb") as f:
        if b"beat" not in f.read():
            return False
    app = _celery()
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=5)
        return conn.connected


if __name__ == "__main__":
    role = sys.argv[1] if len(sys.argv) > 1 else "web"
    try:
        healthy = {"web": web, "worker": worker, "beat": beat}[role]()
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        print(f"{role}: {exc}", file=sys.stderr)
        healthy = False
    sys.exit(0 if healthy else 1)
