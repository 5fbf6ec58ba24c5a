# cleaninbox images, one Dockerfile, two targets (docs/operations/deployment.md):
#   serving  (default) web + Celery workers + beat; models served by onnxruntime or
#            scikit-learn, no torch (0.81 GB on the local Debian base)
#   training fine-tuning and ONNX export: the same plus torch (CPU) and transformers (2.4 GB)
# The base image is a build argument: the official image by default; where no registry is
# reachable, scripts/base-images.sh makes a local stand-in (PYTHON_IMAGE=localhost/...).
ARG PYTHON_IMAGE=docker.io/library/python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
RUN useradd --create-home --uid 10001 cleaninbox

# The dependency lists, read from pyproject.toml; later stages copy only these files, so an
# edit to pyproject.toml that leaves the dependencies alone keeps the installed layers cached.
FROM base AS requirements
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; p = tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']; \
open('/tmp/requirements.txt', 'w').write('\n'.join(p['dependencies'])); \
open('/tmp/requirements-train.txt', 'w').write('\n'.join(p['optional-dependencies']['train']))"

# Dependencies only, so a code change does not re-install them.
FROM base AS deps
COPY --from=requirements /tmp/requirements.txt /tmp/
RUN python -m venv /opt/venv && pip install -q -r /tmp/requirements.txt

# The serving venv without what only installing and testing need (test suites of numpy,
# pandas, scipy, scikit-learn: about 100 MB; pip and setuptools).
FROM deps AS deps-serving
RUN find /opt/venv/lib/python3.11/site-packages -depth -type d -name tests \
      -path '*/site-packages/*/tests' -exec rm -rf {} + \
 && /opt/venv/bin/pip uninstall -q -y pip setuptools

# torch's CPU build: from PyTorch's CPU index by default, or from wheels/ in the build context
# (TORCH_INDEX= empty and the wheel copied there) where that index is not reachable.
FROM deps AS deps-train
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
COPY --from=requirements /tmp/requirements-train.txt /tmp/
RUN --mount=type=bind,source=wheels,target=/tmp/wheels \
    pip install -q --find-links /tmp/wheels ${TORCH_INDEX:+--extra-index-url "$TORCH_INDEX"} \
      "$(grep '^torch' /tmp/requirements-train.txt)" \
 && pip install -q --find-links /tmp/wheels -r /tmp/requirements-train.txt

# The application: code, templates, collected static files; runs as an unprivileged user.
FROM base AS app
WORKDIR /app
# Production defaults; compose and the environment override them.
ENV PYTHONPATH=/app DEBUG=false CLEANINBOX_TORCH_THREADS=1
# Only what runs (not wheels/, tests' data or docs); gunicorn.conf.py when the repo has one.
COPY pyproject.toml README.md manage.py gunicorn.con[f].py ./
COPY cleaninbox cleaninbox
COPY inbox inbox
COPY classifier classifier
COPY mlops mlops
COPY templates templates
COPY static static
COPY configs configs
COPY docker docker
RUN mkdir -p /app/var && chown cleaninbox:cleaninbox /app/var && chmod +x docker/entrypoint.sh
EXPOSE 8000
ENTRYPOINT ["docker/entrypoint.sh"]
CMD ["web"]

FROM app AS training
COPY --from=deps-train /opt/venv /opt/venv
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0
USER cleaninbox

FROM app AS serving
COPY --from=deps-serving /opt/venv /opt/venv
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0
USER cleaninbox
