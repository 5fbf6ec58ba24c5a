"""The Celery app; configuration comes from Django settings (CELERY_* names)."""

from __future__ import annotations

import os

from celery import Celery

from cleaninbox.monitoring import worker as worker_monitoring

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cleaninbox.settings")
# Idle OpenMP threads must sleep, not spin, or torch in a worker steals the core the other
# worker process needs. libgomp reads this when torch is first imported, so set it here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# A worker node's multiprocess metrics folder, emptied before anything imports
# prometheus_client (its per-node exporter and task counters hang on Celery's signals).
worker_monitoring.prepare_folder()

app = Celery("cleaninbox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
