"""Log formatting: every record carries its `extra` fields (email_id, message_id, task_id…)
so one email can be followed from ingestion to classification with a grep."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _masked_exception(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    # A traceback can quote the value that failed: a card number in a parse error, say.
    from inbox.pii import mask_pii

    return mask_pii(formatter.formatException(record.exc_info))


class KeyValueFormatter(logging.Formatter):
    """`time level logger message key=value …`, readable in a terminal and greppable."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        line = f"{stamp}Z {record.levelname:<7} {record.name}: {record.getMessage()}"
        pairs = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        if pairs:
            line = f"{line} {pairs}"
        if record.exc_info:
            line = f"{line}\n{_masked_exception(self, record)}"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **{
                k: v if isinstance(v, int | float | bool | None) else str(v)
                for k, v in _extras(record).items()
            },
        }
        if record.exc_info:
            data["exc_info"] = _masked_exception(self, record)
        return json.dumps(data, ensure_ascii=False)


class MaskPIIFilter(logging.Filter):
    """Masks card numbers and IBANs in messages and `extra` fields before any handler
    writes them (an extra such as a parse defect or an error can quote a customer)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from inbox.pii import mask_pii

        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, None
        for key, value in _extras(record).items():
            if isinstance(value, int | float | bool | None):
                continue
            # Formatters print extras with str(), so a masked string prints the same way.
            text = str(value)
            masked = mask_pii(text)
            if masked != text:
                setattr(record, key, masked)
        return True


class TaskContextFilter(logging.Filter):
    """Adds the running Celery task's id and name to records logged inside a task."""

    def filter(self, record: logging.LogRecord) -> bool:
        from celery._state import get_current_task

        task = get_current_task()
        if task is not None and task.request.id and not hasattr(record, "task_id"):
            record.task_id = task.request.id
            record.task_name = task.name
        return True
