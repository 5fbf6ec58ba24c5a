#!/usr/bin/env bash
# Build the documentation site into site/ (or the folder given), strictly: a broken link,
# a page missing from the nav or an API reference that cannot be generated fails the build.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-true}   # the API reference runs manage.py: a build is development
export NO_MKDOCS_2_WARNING=1   # material 9.8 advertises mkdocs 2 on every build
exec .venv/bin/mkdocs build --strict --quiet --site-dir "${1:-site}"
