#!/usr/bin/env bash
# Run the test suite against the real PostgreSQL and Redis (see README, "Running the tests").
# Extra arguments go to pytest, e.g. `make test ARGS="-k pipeline"`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/services.sh
export DATABASE_URL=${TEST_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}}
export WANDB_MODE=disabled
if [ -z "${CLEANINBOX_DATA_SOURCE:-}" ]; then
  echo "test: CLEANINBOX_DATA_SOURCE is not set: tests will fetch BANKING77 from the Hugging Face Hub"
fi
mkdir -p test-artifacts
exec .venv/bin/pytest "$@"
