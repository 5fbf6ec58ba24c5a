#!/usr/bin/env bash
# Set up and start cleaninbox locally: install, migrate, create the first admin, fetch
# BANKING77, train the quick baseline if no model serves yet, then run web (gunicorn, static
# files collected and served by WhiteNoise as in production) + worker + beat.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
if [ -f .env ]; then set -a; . ./.env; set +a; fi
# A local run is development unless .env or the environment says otherwise (the settings
# themselves default to production: DEBUG off, HTTPS only).
export DEBUG=${DEBUG:-true}
scripts/services.sh redis $([[ "${DATABASE_URL:-}" == postgres* ]] && echo postgres)

mkdir -p var
py=.venv/bin/python
$py manage.py migrate --noinput
$py manage.py collectstatic --noinput -v 0
$py manage.py ensure_admin
$py manage.py download_data
$py manage.py train_baseline --promote --evaluate --if-no-active
$py manage.py list_models || true
echo
port=${PORT:-8000}
echo "cleaninbox: http://127.0.0.1:${port}/  (API docs: /api/docs/, admin: /admin/)"
# honcho hands each process its own $PORT counting up from -p (5000 when not given): the web,
# first in the Procfile, gets this one.
exec .venv/bin/honcho -f Procfile.dev start -p "$port"
