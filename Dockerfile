# Image for web, worker and beat (docker-compose.yml). Build: docker compose build
# Debian 12 (bookworm), the same Debian as CI and the developers machines.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=khuyencong.settings \
    ENV_FILE=""

# WeasyPrint needs Pango/HarfBuzz (libharfbuzz-subset0 makes PDF writing faster); fonts with full
# Vietnamese coverage; gettext to compile the English catalogue.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libffi8 \
        fonts-liberation2 fonts-dejavu-core fontconfig gettext \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected into the image (served by whitenoise with hashed names); the build-only
# key exists just to import the production settings here and is never used at run time.
RUN python manage.py compilemessages --ignore=.venv -v0 \
 && DEBUG=False ALLOWED_HOSTS=build SECRET_KEY=build-only-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz \
    python manage.py collectstatic --noinput -v0 \
 && useradd --create-home --uid 1000 app \
 && mkdir -p /app/media /app/beat \
 && chown -R app:app /app/media /app/beat

USER app
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
