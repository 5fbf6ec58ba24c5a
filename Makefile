# The two commands of the README: `make run` and `make test`.
.PHONY: setup run test lint

setup:
	scripts/setup.sh

run:
	scripts/run.sh

test:
	scripts/test.sh $(ARGS)

lint:
	.venv/bin/ruff check .
