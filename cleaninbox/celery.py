"""The Celery app; configuration comes from Django settings (CELERY_* names).

Workers and beat log through Django's LOGGING (cleaninbox.logging): the same key=value or
JSON lines as the web app, with each record's extras (email_id, message_id, task_id) and
the card-number/IBAN mask. Connecting ``setup_logging`` tells Celery not to install its
own handlers and format.
"""

from __future__ import annotations

import os
import warnings

from celery import Celery
from celery.signals import setup_logging

from cleaninbox.monitoring import worker as worker_monitoring

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cleaninbox.settings")
# Idle OpenMP threads must sleep, not spin, or torch in a worker steals the core the other
# worker process needs. libgomp reads this when torch is first imported, so set it here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# A worker node's multiprocess metrics folder, emptied before anything imports
# prometheus_client (its per-node exporter and task counters hang on Celery's signals).
worker_monitoring.prepare_folder()

# Celery warns whenever a worker runs as root (a container or CI sandbox run by root, `make
# run` there). The danger it names is unpickling broker messages as root; this app accepts
# JSON only (CELERY_ACCEPT_CONTENT), so the warning says nothing here. The images run as an
# unprivileged user anyway.
warnings.filterwarnings("ignore", message="You're running the worker with superuser privileges")

app = Celery("cleaninbox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(loglevel=None, **kwargs) -> None:
    """Configure a worker's or beat's logging from settings.LOGGING (not Celery's format)."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
