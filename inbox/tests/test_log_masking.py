"""Card numbers and IBANs never reach the logs unmasked, in messages or `extra` fields."""

from __future__ import annotations

import io
import logging
import random
import uuid

import pytest
from django.utils.module_loading import import_string

from cleaninbox.logging import MaskPIIFilter
from inbox.importing import import_path
from inbox.models import Email
from inbox.pii import mask_pii

PAN = "4111 1111 1111 1111"
IBAN = "GB82 WEST 1234 5698 7654 32"
UNMASKED = [PAN, PAN.replace(" ", ""), IBAN, IBAN.replace(" ", ""), "5698 7654", "1111 1111"]

# PII where ingestion logs it: the Message-ID (every ingest log line), an unreadable
# Date and a To header that is not an address (parse defects), and the body.
MESSAGE = (
    f"From: Jane <jane@customer.example>\r\n"
    f"To: {IBAN}\r\n"
    f"Subject: card {PAN} blocked\r\n"
    f"Date: {PAN}\r\n"
    f"Message-ID: <{IBAN.replace(' ', '')}.{PAN.replace(' ', '')}@customer.example>\r\n"
    f"\r\n"
    f"My card {PAN} is blocked, please send the refund to {IBAN}.\r\n"
).encode()


@pytest.fixture(params=["text", "json"])
def console(request, settings):
    """What the console handler as LOGGING defines it (its filters, the chosen formatter)
    writes. Built here from settings.LOGGING and put on the root logger for the test,
    because other tests (a Celery worker taking over logging) may have replaced the
    handlers configured at start-up."""
    config = settings.LOGGING
    spec = config["handlers"]["console"]
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    for name in spec["filters"]:
        handler.addFilter(import_string(config["filters"][name]["()"])())
    handler.setFormatter(import_string(config["formatters"][request.param]["()"])())
    assert any(isinstance(f, MaskPIIFilter) for f in handler.filters)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)


class _Unfiltered(logging.Handler):
    """Keeps each record as it was logged, before any filter masked it in place."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(f"{record.getMessage()} {vars(record)}")


@pytest.mark.django_db
def test_importing_an_email_with_a_card_number_and_iban_logs_them_masked(tmp_path, console):
    (tmp_path / "pii.eml").write_bytes(MESSAGE)
    root = logging.getLogger()
    unfiltered = _Unfiltered()
    root.handlers.insert(0, unfiltered)  # runs before the console handler's filter
    try:
        summary = import_path(tmp_path)
    finally:
        root.removeHandler(unfiltered)

    assert summary.imported == 1
    email = Email.objects.get()
    assert PAN in email.body_text  # stored as sent; only the logs are masked
    # The PII really was in what was logged ...
    logged = " ".join(unfiltered.seen)
    assert PAN.replace(" ", "") in logged and IBAN.replace(" ", "") in logged
    # ... and the console shows it masked.
    written = console.getvalue()
    assert "emails ingested" in written and "raw email stored with parse defects" in written
    assert "**** **** **** 1111" in written
    for secret in UNMASKED:
        assert secret not in written


def test_extra_fields_of_any_type_are_masked(console):
    logger = logging.getLogger("inbox.test_masking")
    logger.warning(
        "refund to %s failed",
        IBAN,
        extra={"card": PAN, "tried": [PAN, "ok"], "detail": {"iban": IBAN}, "email_id": 42},
    )
    written = console.getvalue()
    for secret in UNMASKED:
        assert secret not in written
    assert "GB** **** **** **** **** 5432" in written
    assert "42" in written


def test_a_traceback_quoting_a_card_number_is_masked(console):
    logger = logging.getLogger("inbox.test_masking")
    try:
        raise ValueError(f"cannot parse {PAN}")
    except ValueError:
        logger.exception("parse failed")
    written = console.getvalue()
    assert "ValueError: cannot parse **** **** **** 1111" in written
    for secret in UNMASKED:
        assert secret not in written


def test_task_ids_stay_whole_and_cards_beside_them_do_not():
    """About 2% of random UUIDs hold a run the card or IBAN pattern takes (Celery task
    ids in worker logs came out as "…-FD** **** 5975"); ids are kept, cards still masked."""
    rng = random.Random(0)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(5000)]
    assert [mask_pii(f"Task classify[{i}] succeeded") for i in ids] == [
        f"Task classify[{i}] succeeded" for i in ids
    ]
    task = "46743741-9466-4472-ab5f-5241f323ca74"  # masked as a card before
    assert mask_pii(f"{task} {PAN}") == f"{task} **** **** **** 1111"
    assert mask_pii(f"{PAN}-{task}") == f"**** **** **** 1111-{task}"
    assert mask_pii(f"id={task};iban={IBAN}") == f"id={task};iban=GB** **** **** **** **** 5432"
