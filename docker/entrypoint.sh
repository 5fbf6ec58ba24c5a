#!/bin/sh
# One image, several roles. Nothing here relies on compose's `service_healthy`: every role
# waits (with retries) for PostgreSQL and Redis itself, the web role applies migrations, and
# the Celery roles wait until they are applied.
#   web      migrate, create the first admin once, serve through gunicorn (gunicorn.conf.py
#            is read when present; PORT, WEB_CONCURRENCY from the environment)
#   worker   celery worker on CELERY_QUEUES (comma-separated)
#   beat     celery beat (run exactly one)
#   migrate  apply migrations and exit (a one-shot job, e.g. before a rolling upgrade)
#   anything else is run as a command, e.g. `python manage.py list_models`
set -eu
role=${1:-web}
wait_for() { python docker/wait_for.py "$@"; }

case "$role" in
  web)
    wait_for db redis
    python manage.py migrate --noinput
    python manage.py ensure_admin
    exec gunicorn cleaninbox.wsgi --bind "0.0.0.0:${PORT:-8000}" --access-logfile -
    ;;
  worker)
    wait_for db redis migrations
    exec celery -A cleaninbox worker --loglevel="${LOG_LEVEL:-INFO}" \
      --queues="${CELERY_QUEUES:-celery,classify,imap,maintenance}" \
      --concurrency="${CELERY_CONCURRENCY:-2}" --hostname="${CELERY_HOSTNAME:-%h}"
    ;;
  beat)
    wait_for db redis migrations
    exec celery -A cleaninbox beat --loglevel="${LOG_LEVEL:-INFO}" \
      --schedule=/app/var/celerybeat-schedule
    ;;
  migrate)
    wait_for db
    exec python manage.py migrate --noinput
    ;;
  *)
    exec "$@"
    ;;
esac
