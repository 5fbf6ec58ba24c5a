# The two commands of the README: `make run` and `make test`.
.PHONY: setup run test model lint

setup:
	scripts/setup.sh

run:
	scripts/run.sh

test:
	scripts/test.sh $(ARGS)

# Fine-tune the transformer (default config), evaluate it on test, promote it if it beats
# the active model on validation. Running workers switch to it without a restart.
model:
	scripts/model.sh $(ARGS)

lint:
	.venv/bin/ruff check .
