"""Wake the classification workers without ever making a caller wait for the broker.

The emails themselves wait in PostgreSQL (see ``classifier.services``); the broker only
carries a small ``classify_pending`` nudge. Publishing happens on one background thread
per process, so a request, an import or an IMAP poll never blocks on Redis — not even on
a Redis that hangs (SIGSTOP) and would hold a publish for its socket timeout.

Requests coalesce: however many arrive while a publish is in flight, one more publish
follows it, and at most one every CLEANINBOX_NUDGE_INTERVAL_MS. A failed publish is
retried a few times with a back-off; after that the beat sweep nudges the workers once
the broker is back. Nothing is lost either way, only delayed.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)

TASK = "classifier.tasks.classify_pending"
RETRIES = (0.5, 2.0, 5.0)  # seconds between tries of a failed publish


class Nudger:
    """One per process and task: a flag and a daemon thread that publishes while the flag
    is up."""

    def __init__(self, task: str = TASK) -> None:
        self.task = task
        self._cond = threading.Condition()
        self._wanted = False
        self._busy = False
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self.published = 0
        self.failed = 0

    def request(self) -> None:
        """Ask for a publish soon; returns at once."""
        with self._cond:
            # First use, a forked child (gunicorn, celery), or a thread that died.
            if self._pid != os.getpid() or not (self._thread and self._thread.is_alive()):
                self._pid = os.getpid()
                self._wanted = self._busy = False
                self._thread = threading.Thread(target=self._run, name="classify-nudge", daemon=True)  # fmt: skip
                self._thread.start()
            self._wanted = True
            self._cond.notify_all()

    def flush(self, timeout: float = 3.0) -> bool:
        """Wait up to ``timeout`` s for requested publishes (a command about to exit)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (self._wanted or self._busy) and self._pid == os.getpid():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._wanted:
                    self._cond.wait()
                self._wanted, self._busy = False, True
            try:
                self._publish_with_retries()
            except Exception:  # never let the thread die with nudges still wanted
                logger.exception("nudge thread error")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
            time.sleep(settings.CLEANINBOX_NUDGE_INTERVAL_MS / 1000)

    def _publish_with_retries(self) -> None:
        for attempt, pause in enumerate((*RETRIES, None)):
            try:
                publish(self.task)
            except Exception as exc:
                self.failed += 1
                logger.warning(
                    "could not nudge the workers; the work waits in the database",
                    extra={
                        "task": self.task,
                        "error": f"{type(exc).__name__}: {exc}",
                        "attempt": attempt + 1,
                    },
                )
                if pause is None:
                    return
                time.sleep(pause)
            else:
                self.published += 1
                return


def publish(task: str = TASK) -> None:
    """Send one nudge now (blocking). Queue and expiry come from the task routes."""
    from cleaninbox.celery import app

    app.send_task(task, expires=settings.CLEANINBOX_NUDGE_EXPIRES_SECONDS)


_nudger = Nudger()
# Other tasks woken the same way (the hand-off's outbox drain), one thread each.
_others: dict[str, Nudger] = {}
_others_lock = threading.Lock()


def _flush_all() -> None:
    for n in [_nudger, *_others.values()]:
        n.flush()


atexit.register(_flush_all)


def request(task: str = TASK) -> None:
    """Wake a worker for ``task`` soon (default: classification); never blocks, never raises."""
    nudger(task).request()


def flush(timeout: float = 3.0) -> bool:
    """Wait for pending nudges to be published (commands call this before exiting)."""
    return all([n.flush(timeout) for n in [_nudger, *_others.values()]])


def nudger(task: str = TASK) -> Nudger:
    if task == TASK:
        return _nudger
    with _others_lock:
        if task not in _others:
            _others[task] = Nudger(task)
        return _others[task]
