#!/bin/sh
# Entry point of the khuyencong image. One image, three roles:
#   web     wait for PostgreSQL, migrate, load missing reference data (idempotent; administrators'
#           edits are kept — `manage.py load_reference --overwrite` by hand restores shipped values),
#           then gunicorn
#   worker  Celery worker
#   beat    Celery beat (run exactly one)
# Anything else is executed as given, e.g. `docker compose run --rm web python manage.py shell`.
set -eu

wait_for_database() {
    tries=0
    until python manage.py shell -c "from django.db import connection; connection.ensure_connection()" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if [ "$tries" -ge 60 ]; then
            echo "entrypoint: database not reachable after 60 s (DATABASE_URL?)" >&2
            python manage.py shell -c "from django.db import connection; connection.ensure_connection()"
            exit 1
        fi
        sleep 1
    done
}

case "${1:-web}" in
    web)
        wait_for_database
        python manage.py migrate --noinput
        python manage.py load_reference
        exec gunicorn khuyencong.wsgi:application \
            --bind "0.0.0.0:${PORT:-8000}" \
            --workers "${GUNICORN_WORKERS:-3}" \
            --timeout "${GUNICORN_TIMEOUT:-60}" \
            --max-requests 2000 --max-requests-jitter 200 \
            --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}" \
            --access-logfile - --error-logfile -
        ;;
    worker)
        wait_for_database
        exec celery -A khuyencong worker --loglevel "${CELERY_LOG_LEVEL:-INFO}" \
            --concurrency "${CELERY_CONCURRENCY:-2}" --hostname "celery@${HOSTNAME:-worker}"
        ;;
    beat)
        wait_for_database
        exec celery -A khuyencong beat --loglevel "${CELERY_LOG_LEVEL:-INFO}" \
            --schedule "${BEAT_SCHEDULE:-/app/beat/celerybeat-schedule}" --pidfile=
        ;;
    *)
        exec "$@"
        ;;
esac
