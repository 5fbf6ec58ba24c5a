"""Import raw email from disk: .eml files, folders of them, mbox files.

Each message goes through :func:`inbox.ingest_raw.ingest_raw`, so a second import of the
same files stores nothing twice (Message-ID, or a hash of the bytes when there is none),
and one bad message, or one unreadable path, never stops the rest.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from inbox.ingest_raw import ingest_raw
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
    flagged: int = 0  # imported with parse defects (included in `imported`)
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
        out = [
            f"imported: {self.imported}"
            + (f" ({self.flagged} with parse defects)" if self.flagged else ""),
            f"duplicates: {self.duplicates}",
            f"rejected: {len(self.rejected)}",
        ]
        out.extend(f"  {item.label}: {item.reason}" for item in self.rejected)
        return out


def import_paths(paths: Iterable[str | Path], progress: bool = False) -> ImportSummary:
    """Import every message under ``paths`` (files, folders, mboxes) and summarise."""
    summary = ImportSummary()
    bar_context = _logs_above_the_bar() if progress else nullcontext()
    with bar_context, tqdm(unit="msg", desc="importing", disable=not progress) as bar:
        for label, raw in _messages(paths, summary):
            _import_one(label, raw, summary)
            bar.update(1)
            bar.set_postfix(
                imported=summary.imported,
                duplicates=summary.duplicates,
                rejected=len(summary.rejected),
            )
    logger.info(
        "import finished",
        extra={
            "imported": summary.imported,
            "duplicates": summary.duplicates,
            "flagged": summary.flagged,
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


def _import_one(label: str, raw: bytes, summary: ImportSummary) -> None:
    try:
        outcome = ingest_raw(raw, Email.Source.IMPORT, label=label)
    except Exception as exc:
        # A message the database refuses must not end an import of thousands.
        logger.exception("import of one message failed", extra={"label": label})
        summary.rejected.append(
            Rejected(label, f"could not be stored: {type(exc).__name__}: {exc}")
        )
        return
    if outcome.result == "rejected":
        summary.rejected.append(Rejected(label, outcome.reason))
    elif outcome.result == "duplicate":
        summary.duplicates += 1
    else:
        summary.imported += 1
        summary.flagged += outcome.flagged
