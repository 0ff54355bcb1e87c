# syntax=docker/dockerfile:1
# Production image of the helpdesk: one image for web (gunicorn), Celery worker and Celery beat.
# docker-compose.yml shows how the processes, PostgreSQL and Redis fit together.
FROM python:3.11-slim

# The code runs from /app (PYTHONPATH), not from site-packages: the project-level templates/
# and static/ folders (BASE_DIR) live next to the packages, and the wheel does not carry them.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=helpdesk.settings.production \
    MEDIA_ROOT=/app/media

WORKDIR /app

RUN groupadd --system --gid 10001 helpdesk \
    && useradd --system --uid 10001 --gid helpdesk --home-dir /app --no-create-home --shell /usr/sbin/nologin helpdesk

# Dependencies first, read from pyproject.toml (runtime dependencies only, no dev extras),
# so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# Static files are part of the image (whitenoise serves them). Production settings refuse to
# load without these variables, so collectstatic gets throwaway values that exist only in
# this RUN step: nothing connects to them and none of them ends up in the image.
RUN SECRET_KEY=collectstatic-build-only \
    DATABASE_URL=postgresql://x@localhost/x \
    REDIS_URL=redis://localhost:6379/0 \
    ALLOWED_HOSTS=x \
    SITE_URL=http://x \
    python manage.py collectstatic --noinput --verbosity 0

# The code stays owned by root (the app cannot rewrite itself); only uploads are writable.
RUN mkdir -p /app/media && chown helpdesk:helpdesk /app/media

USER helpdesk:helpdesk

EXPOSE 8000

# WEB_CONCURRENCY (read by gunicorn itself) sets the number of workers.
CMD ["gunicorn", "helpdesk.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--worker-tmp-dir", "/dev/shm", "--graceful-timeout", "20"]
