"""The Celery app; configuration comes from Django settings (CELERY_* names)."""

from __future__ import annotations

import os
import warnings

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cleaninbox.settings")
# Idle OpenMP threads must sleep, not spin, or torch in a worker steals the core the other
# worker process needs. libgomp reads this when torch is first imported, so set it here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Celery warns whenever a worker runs as root (a container or CI sandbox run by root, `make
# run` there). The danger it names is unpickling broker messages as root; this app accepts
# JSON only (CELERY_ACCEPT_CONTENT), so the warning says nothing here. The images run as an
# unprivileged user anyway.
warnings.filterwarnings("ignore", message="You're running the worker with superuser privileges")

app = Celery("cleaninbox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
