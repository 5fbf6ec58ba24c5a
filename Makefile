# The two commands of the README: `make run` and `make test`.
.PHONY: setup run test model lint stack-test base-images docs

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

# Build the serving and training images, run the compose stack and check it from outside
# (ingest, classify, restart a worker, nothing lost), then tear it down. About 5 minutes
# with the images cached; see docs/operations.md. Not part of `make test` / CI.
stack-test:
	scripts/stack-test.sh

# Local stand-ins for the python/postgres/redis base images when no registry is reachable.
base-images:
	scripts/base-images.sh

# The documentation site (mkdocs-material) into site/, API reference from the OpenAPI schema.
docs:
	scripts/docs.sh
