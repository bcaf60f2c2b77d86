# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_STATIC_ROOT=/app/static

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Collect the admin's static files for WhiteNoise. DEBUG=1 only so that the
# build needs no secret; the containers run with DJANGO_DEBUG=0.
# /data is created here, owned by the app user, so that a new named volume
# mounted on it starts with these folders and that owner.
RUN DJANGO_DEBUG=1 INGEST_VAR_DIR=/tmp/build-var \
        python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/build-var \
    && useradd --create-home --uid 1000 app \
    && mkdir -p /data/inbox /data/archive /data/failed /app/var \
    && chown -R app /data /app/var

USER app
EXPOSE 8000
CMD ["gunicorn", "myproject.wsgi", "--bind", "0.0.0.0:8000"]
