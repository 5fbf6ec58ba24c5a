#!/usr/bin/env bash
# Fine-tune the transformer with the default config (progress bar with ETA), evaluate it on
# the test split and promote it only if it beats the active model on validation; then its
# ONNX export serves (int8 when within 0.2 points and the routing error target, else fp32
# when as good), so the workers run without torch.
# Extra arguments go to train_model, e.g. `make model ARGS="--with-corrections"`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ -f .env ]; then set -a; . ./.env; set +a; fi
export DEBUG=${DEBUG:-true}  # a local training run is development (see scripts/run.sh)
py=.venv/bin/python
$py manage.py migrate --noinput >/dev/null
$py manage.py download_data
$py manage.py train_model --config minilm --evaluate --promote-if-better "$@"
$py manage.py serve_fastest
$py manage.py list_models
