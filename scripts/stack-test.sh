#!/usr/bin/env bash
# `make stack-test`: build the images, bring the compose stack up, and check it from outside
# the containers as a client would: wait for readiness, train and promote the TF-IDF baseline
# inside the web container, ingest emails through the API, check they are classified,
# restart a worker in the middle of a batch and check nothing is lost, then tear it all down
# (containers and volumes; KEEP=1 leaves the stack running).
# Engine: `docker compose` when a Docker daemon answers, else podman + podman-compose.
# Without a reachable registry the base images are made locally (scripts/base-images.sh), and
# torch's CPU wheel is taken from pip's find-links folder when PyTorch's index is unreachable.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
step() { echo "stack-test: [$(( $(date +%s) - started ))s] $*"; }

if docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  ENGINE=docker; compose() { docker compose -p "$PROJECT" "$@"; }
elif command -v podman >/dev/null && command -v podman-compose >/dev/null; then
  ENGINE=podman; compose() { podman-compose -p "$PROJECT" "$@"; }
else
  echo "stack-test: needs docker (with compose) or podman + podman-compose" >&2; exit 1
fi
PROJECT=${STACK_PROJECT:-cleaninbox-stacktest}
export PORT=${STACK_PORT:-18080}
URL=http://127.0.0.1:$PORT
LOG=${STACK_LOG:-test-artifacts/stack-test.log}
mkdir -p "$(dirname "$LOG")"; : > "$LOG"
DATA=${CLEANINBOX_DATA_SOURCE:-../shared/data/banking77}
[ -f "$DATA/train.csv" ] || { echo "stack-test: no BANKING77 CSVs at $DATA (set CLEANINBOX_DATA_SOURCE)" >&2; exit 1; }

# Secrets for this throw-away stack come from the environment, as compose reads them.
export SECRET_KEY=${SECRET_KEY:-stack-test-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export POSTGRES_PASSWORD=stack-test-db CLEANINBOX_ADMIN_PASSWORD=stack-test-admin
export CLEANINBOX_ENV_FILE=test-artifacts/stack.env   # the stack's .env, not the developer's
printf 'SECRET_KEY=%s\nPOSTGRES_PASSWORD=%s\nCLEANINBOX_ADMIN_PASSWORD=%s\n' \
  "$SECRET_KEY" "$POSTGRES_PASSWORD" "$CLEANINBOX_ADMIN_PASSWORD" > "$CLEANINBOX_ENV_FILE"
export CLEANINBOX_IMAGE=localhost/cleaninbox:serving CLEANINBOX_TRAINING_IMAGE=localhost/cleaninbox:training

# Official base images when the registry answers, else local stand-ins.
if [ -z "${PYTHON_IMAGE:-}" ]; then
  if timeout 60 $ENGINE pull -q docker.io/library/python:3.11-slim-bookworm >>"$LOG" 2>&1; then
    step "official base images"
  else
    step "no registry: local base images (scripts/base-images.sh)"
    eval "export $(ENGINE=$ENGINE scripts/base-images.sh | tail -1)"
  fi
fi
# torch: PyTorch's CPU index, or a wheel on disk that pip here is pointed at.
if [ -z "${TORCH_INDEX+set}" ] && ! timeout 10 python3 -c \
    "import urllib.request; urllib.request.urlopen('https://download.pytorch.org/whl/cpu/', timeout=8)" 2>/dev/null; then
  links=${PIP_FIND_LINKS:-$(pip3 config get global.find-links 2>/dev/null || true)}
  wheel=$(ls "$links"/torch-2.13.0*cpu*-cp311-*.whl 2>/dev/null | head -1 || true)
  [ -n "$wheel" ] || { echo "stack-test: download.pytorch.org unreachable and no torch wheel in '$links'" >&2; exit 1; }
  ln -f "$wheel" wheels/ 2>/dev/null || cp -f "$wheel" wheels/
  export TORCH_INDEX=
  step "torch from $wheel"
fi

cleanup() {
  status=$?
  if [ $status -ne 0 ]; then
    echo "stack-test: FAILED; last container logs:" >&2
    compose logs --tail 40 >&2 2>/dev/null || true
  fi
  if [ -z "${KEEP:-}" ]; then compose down -v >>"$LOG" 2>&1 || true; fi
  step "done (exit $status); log in $LOG"
}

step "building serving and training images ($ENGINE)"
build() { $ENGINE build -q --target "$1" --build-arg PYTHON_IMAGE="${PYTHON_IMAGE:-docker.io/library/python:3.11-slim-bookworm}" \
  --build-arg TORCH_INDEX="${TORCH_INDEX-https://download.pytorch.org/whl/cpu}" -t "$2" . >>"$LOG" 2>&1 \
  || { tail -30 "$LOG" >&2; exit 1; }; }
build serving "$CLEANINBOX_IMAGE"
build training "$CLEANINBOX_TRAINING_IMAGE"
for image in "$CLEANINBOX_IMAGE" "$CLEANINBOX_TRAINING_IMAGE"; do
  step "$image: $($ENGINE image inspect "$image" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
done
$ENGINE run --rm --entrypoint python "$CLEANINBOX_IMAGE" -c \
  "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is not None)" \
  || { echo "stack-test: the serving image contains torch" >&2; exit 1; }
$ENGINE run --rm --entrypoint sh "$CLEANINBOX_IMAGE" -c '[ "$(id -u)" != 0 ]' \
  || { echo "stack-test: the serving image runs as root" >&2; exit 1; }

trap cleanup EXIT
compose down -v >>"$LOG" 2>&1 || true
step "compose up"
compose up -d --no-build web worker beat postgres redis >>"$LOG" 2>&1 || { tail -30 "$LOG" >&2; exit 1; }
# Live first (readiness needs a model, which is trained below), ready after the model.
python3 scripts/stack_check.py ready --live --url "$URL" --timeout 240

cid() { $ENGINE ps -q --filter "label=com.docker.compose.project=$PROJECT" \
  --filter "label=com.docker.compose.service=$1" | head -1; }
web=$(cid web)
step "model: TF-IDF baseline trained and promoted inside the web container"
$ENGINE exec "$web" mkdir -p /app/var/source
$ENGINE cp "$DATA/train.csv" "$web:/app/var/source/train.csv"
$ENGINE cp "$DATA/test.csv" "$web:/app/var/source/test.csv"
$ENGINE exec "$web" python manage.py download_data --source /app/var/source >>"$LOG" 2>&1
$ENGINE exec "$web" python manage.py train_baseline --promote --if-no-active 2>>"$LOG" | tail -1
TOKEN=$($ENGINE exec "$web" python manage.py drf_create_token admin | awk '{print $3}')
python3 scripts/stack_check.py ready --url "$URL" --timeout 120

# The compose healthchecks themselves (shell form): podman without systemd never schedules
# them, so run them once here; Docker runs them on its own, so read the status it reports.
healthy() {
  if [ "$ENGINE" = podman ]; then podman healthcheck run "$1" >/dev/null 2>&1
  else [ "$(docker inspect --format '{{.State.Health.Status}}' "$1")" = healthy ]; fi
}
services="postgres redis worker web"
if [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 404 ]; then
  step "healthcheck web: skipped, this branch has no /healthz yet (the monitoring work adds it)"
  services="postgres redis worker"
fi
for service in $services; do
  for _ in $(seq 1 30); do healthy "$(cid $service)" && break; sleep 2; done
  healthy "$(cid $service)" || { echo "stack-test: healthcheck of $service fails" >&2; exit 1; }
  step "healthcheck $service: healthy"
done

step "ingest 40 emails through the API"
python3 scripts/stack_check.py ingest --url "$URL" --token "$TOKEN" --tag first --count 40
python3 scripts/stack_check.py settled --url "$URL" --token "$TOKEN" --tag first --count 40 --timeout 180

step "ingest 200 more and kill the worker (SIGKILL) while it classifies them, then start it"
python3 scripts/stack_check.py ingest --url "$URL" --token "$TOKEN" --tag restart --count 200 &
ingesting=$!
# SIGKILL, the worst case: the worker dies with tasks reserved and running, no warm shutdown
# gives them back. The emails stay pending in PostgreSQL and beat's sweep re-queues them
# (CLEANINBOX_SWEEP_AFTER_SECONDS, 120 s). (`restart -t N` is racy in podman 4.3: it fails
# when the worker exits just as the timeout ends.)
worker=$(cid worker)
sleep 3
$ENGINE kill -s KILL "$worker" >>"$LOG" 2>&1
wait $ingesting
python3 scripts/stack_check.py status --url "$URL" --token "$TOKEN" --tag restart
$ENGINE start "$worker" >>"$LOG" 2>&1
python3 scripts/stack_check.py settled --url "$URL" --token "$TOKEN" --tag restart --count 200 --timeout 420
python3 scripts/stack_check.py settled --url "$URL" --token "$TOKEN" --tag first --count 40 --timeout 10
step "all checks passed"
