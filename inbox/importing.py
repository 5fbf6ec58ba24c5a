"""Import raw email from disk: .eml files, folders of them, mbox files.

Messages are stored in chunks of CLEANINBOX_IMPORT_CHUNK through the same bulk path as
the batch API (:func:`inbox.ingest_raw.ingest_raw_many`), so a second import of the
same files stores nothing twice (Message-ID, or a hash of the bytes when there is none),
and one bad message, or one unreadable path, never stops the rest. While the
classification backlog is over its limit the import waits and retries instead of
failing (the progress bar says so).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.conf import settings
from tqdm import tqdm

from inbox import backpressure, nudge
from inbox.ingest_raw import RawOutcome, ingest_raw_many
from inbox.mail.parsing import iter_messages
from inbox.models import Email

logger = logging.getLogger(__name__)


@dataclass
class Rejected:
    label: str
    reason: str


@dataclass
class ImportSummary:
    """Counts per outcome, and the rejected items with their reasons."""

    imported: int = 0
    duplicates: int = 0
    flagged: int = 0  # imported with real parse defects (included in `imported`)
    noticed: int = 0  # imported with notices only: non-standard but fully read
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def read(self) -> int:
        """Messages that are now in the database, new or from an earlier run."""
        return self.imported + self.duplicates

    @property
    def nothing_read(self) -> bool:
        return self.read == 0

    def lines(self) -> list[str]:
        """The summary as a person reads it at the end of an import."""
        details = [
            f"{self.flagged} with parse defects" if self.flagged else "",
            f"{self.noticed} with notices only" if self.noticed else "",
        ]
        details = [d for d in details if d]
        out = [
            f"imported: {self.imported}" + (f" ({', '.join(details)})" if details else ""),
            f"duplicates: {self.duplicates}",
            f"rejected: {len(self.rejected)}",
        ]
        if self.flagged:
            out.append(
                "  parse defects: something was missing, undecodable or cut; what could be "
                "read is stored, and the email's admin page lists the defects"
            )
        if self.noticed:
            out.append(
                "  notices: non-standard but fully read syntax (e.g. a dot in a sender's "
                "display name); nothing was lost"
            )
        out.extend(f"  {item.label}: {item.reason}" for item in self.rejected)
        return out


# Loggers that write a line per email or per chunk: useful from the API and IMAP, noise
# under an import's progress bar (its summary counts and lists the same things).
PER_EMAIL_LOGGERS = ("inbox.ingest_raw", "inbox.services", "inbox.nudge")


def import_paths(
    paths: Iterable[str | Path], progress: bool = False, quiet: bool = False
) -> ImportSummary:
    """Import every message under ``paths`` (files, folders, mboxes) and summarise.

    ``quiet`` keeps per-email and per-chunk log lines below WARNING out of the way (the
    command's default: a progress bar and a summary); errors are still logged."""
    summary = ImportSummary()
    bar_context = _logs_above_the_bar() if progress else nullcontext()
    quiet_context = _quiet(PER_EMAIL_LOGGERS) if quiet else nullcontext()
    with (
        bar_context,
        quiet_context,
        tqdm(unit="msg", desc="importing", disable=not progress) as bar,
    ):
        chunk: list[tuple[str, bytes]] = []
        for message in _messages(paths, summary):
            chunk.append(message)
            if len(chunk) >= settings.CLEANINBOX_IMPORT_CHUNK:
                _import_chunk(chunk, summary, bar)
                chunk = []
        if chunk:
            _import_chunk(chunk, summary, bar)
    nudge.flush()  # the last chunk's nudge must leave before the command exits
    logger.info(
        "import finished",
        extra={
            "imported": summary.imported,
            "duplicates": summary.duplicates,
            "flagged": summary.flagged,
            "noticed": summary.noticed,
            "rejected": len(summary.rejected),
        },
    )
    return summary


def import_path(path: str | Path, progress: bool = False) -> ImportSummary:
    """Import one file, folder or mbox; see :func:`import_paths`."""
    return import_paths([path], progress=progress)


class _AboveTheBar:
    """A stream for a log handler that prints each line above the progress bar."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        if text.strip():
            tqdm.write(text.rstrip("\n"), file=self.stream)

    def flush(self) -> None:
        self.stream.flush()


@contextmanager
def _logs_above_the_bar() -> Iterator[None]:
    # Only the stream changes: the handlers keep their formatter and the PII mask filter
    # (tqdm's own logging_redirect_tqdm builds new handlers without our filters).
    handlers = [
        h
        for h in logging.getLogger().handlers
        if type(h) is logging.StreamHandler and h.stream in (sys.stderr, sys.stdout)
    ]
    originals = [(h, h.stream) for h in handlers]
    for handler, stream in originals:
        handler.setStream(_AboveTheBar(stream))
    try:
        yield
    finally:
        for handler, stream in originals:
            handler.setStream(stream)


@contextmanager
def _quiet(names: Iterable[str]) -> Iterator[None]:
    # Rejections (WARNING, one per message) are listed by the summary; only errors show.
    loggers = [logging.getLogger(name) for name in names]
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)


def _messages(paths: Iterable[str | Path], summary: ImportSummary) -> Iterator[tuple[str, bytes]]:
    """(label, raw) of every message; a path that cannot be read is recorded and skipped."""
    for path in paths:
        if not Path(path).exists():
            summary.rejected.append(Rejected(str(path), "no such file or folder"))
            continue
        try:
            yield from iter_messages(path)
        except (OSError, ValueError) as exc:
            # A file vanishing or unreadable mid-way: keep what was imported, go on.
            summary.rejected.append(Rejected(str(path), f"could not be read: {exc}"))
            logger.warning("import path unreadable", extra={"path": str(path), "error": str(exc)})


def _import_chunk(chunk: list[tuple[str, bytes]], summary: ImportSummary, bar: tqdm) -> None:
    _wait_for_backlog(bar)
    try:
        outcomes = ingest_raw_many(chunk, Email.Source.IMPORT)
    except Exception as exc:
        # The database refused the whole chunk (unreachable): report it, go on with the next.
        logger.exception("import of a chunk failed", extra={"messages": len(chunk)})
        reason = f"could not be stored: {type(exc).__name__}: {exc}"
        outcomes = [RawOutcome("error", reason=reason)] * len(chunk)
    for (label, _), outcome in zip(chunk, outcomes, strict=True):
        _count(label, outcome, summary)
    bar.update(len(chunk))
    bar.set_postfix(
        imported=summary.imported, duplicates=summary.duplicates, rejected=len(summary.rejected)
    )


def _wait_for_backlog(bar: tqdm) -> None:
    """Backpressure: while too many emails wait for classification, wait and retry."""
    while True:
        try:
            backpressure.check()
            return
        except backpressure.Backlogged as busy:
            bar.set_postfix_str(f"waiting: {busy.backlog} emails to classify")
            logger.info(
                "import waiting for the classification backlog", extra={"backlog": busy.backlog}
            )
            nudge.request()
            time.sleep(busy.retry_after)
            backpressure.forget()


def _count(label: str, outcome: RawOutcome, summary: ImportSummary) -> None:
    if outcome.result in ("rejected", "error"):
        summary.rejected.append(Rejected(label, outcome.reason))
    elif outcome.result == "duplicate":
        summary.duplicates += 1
    else:
        summary.imported += 1
        summary.flagged += outcome.flagged
        summary.noticed += outcome.noticed
