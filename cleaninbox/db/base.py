"""Django's PostgreSQL backend with a patient connect.

A PostgreSQL restart or failover refuses connections for a second or two. Opening a
connection is the first thing a request (or a task) does with the database, before any
work, so retrying *only the connect* for up to DB_CONNECT_RETRY_SECONDS turns a restart
into a short delay instead of an error, and cannot repeat any work. A server that stays
down still fails after that (the web answers 503 with Retry-After, see
cleaninbox.middleware). Queries on an open connection are never retried here.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db.backends.postgresql import base

logger = logging.getLogger(__name__)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        deadline = time.monotonic() + getattr(settings, "DB_CONNECT_RETRY_SECONDS", 0)
        delay = 0.1
        while True:
            try:
                return super().get_new_connection(conn_params)
            except base.Database.OperationalError as exc:
                if time.monotonic() + delay > deadline:
                    raise
                logger.warning("database refused a connection; retrying", extra={"error": str(exc)})
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
