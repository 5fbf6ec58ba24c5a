# Production-like image: gunicorn for web, the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DEBUG=false CLEANINBOX_TORCH_THREADS=1
WORKDIR /app

# The CPU build of torch first, from PyTorch's CPU index, so pip never pulls CUDA wheels.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY cleaninbox cleaninbox
COPY inbox inbox
COPY classifier classifier
COPY mlops mlops
RUN pip install .
COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput

RUN useradd --create-home cleaninbox && mkdir -p /app/var && chown -R cleaninbox /app/var
USER cleaninbox
EXPOSE 8000
# Workers, threads and timeouts come from the environment (gunicorn.conf.py).
CMD ["gunicorn", "cleaninbox.wsgi", "--bind", "0.0.0.0:8000"]
