"""What changes emails: ingestion, corrections and the pending sweep.

Views and commands validate input and call these functions; each one changes the
database inside one transaction and wakes the classification workers only after the
transaction commits. The emails themselves are the queue (``pending`` rows, claimed by
``classifier.services``), so a broker outage never loses an email that was accepted.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import JSONField, Q
from django.utils import timezone

from cleaninbox import metrics
from inbox import intents, nudge, signals, triage
from inbox.models import Correction, Email

logger = logging.getLogger(__name__)


@dataclass
class IncomingEmail:
    """An email as an ingestion channel hands it over, already validated for shape."""

    message_id: str
    sender: str
    subject: str = ""
    body_text: str = ""
    body_html: str = ""
    sender_name: str = ""
    recipients: list[str] = field(default_factory=list)
    received_at: datetime | None = None
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    parse_defects: list[str] = field(default_factory=list)
    parse_notices: list[str] = field(default_factory=list)
    source: str = Email.Source.API
    # Set by inbox.mail.automatic_reason for auto-replies, bounces and list mail: such an
    # email is stored set aside, with this as its routing_reason, and never classified.
    automatic: str = ""
    # The header fields routing rules may read (inbox.mail.routing_headers).
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class IngestResult:
    result: Literal["accepted", "duplicate"]
    email: Email


def _model_input(subject: str, body_text: str, body_html: str) -> str:
    from inbox.mail import model_input

    return model_input(subject, body_text, body_html)


def ingest_email(incoming: IncomingEmail) -> IngestResult:
    """Store one email (once per Message-ID) and nudge the classifiers after commit."""
    return ingest_many([incoming])[0]


def ingest_many(items: Sequence[IncomingEmail]) -> list[IngestResult]:
    """Store emails in one go (once per Message-ID), in the order given; one result each.

    The one ingestion path: the API (single and batch), raw messages, imports and IMAP
    all come here. On PostgreSQL one ``INSERT … ON CONFLICT DO NOTHING`` stores the new
    emails and is the duplicate check (a single round trip for a single email); only
    duplicates cost a second query, to find the stored email. A single nudge after commit
    wakes the classification workers; nothing here waits for the broker. A Message-ID
    repeated within ``items`` is stored once and reported as a duplicate of the first.
    """
    started = time.perf_counter()
    if not items:
        return []
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        first.setdefault(item.message_id, index)
    new = sorted(first.values())
    emails = [_build(items[i]) for i in new]
    _triage_set_aside(emails)
    threaded = any(items[i].in_reply_to or items[i].references for i in new)
    with transaction.atomic() if threaded else nullcontext():
        _insert(emails)
        if threaded:
            _link_threads(
                [items[i] for i, e in zip(new, emails, strict=True) if e.pk],
                [e for e in emails if e.pk],
            )
    lost = [e.message_id for e in emails if e.pk is None]
    stored = {e.message_id: e for e in _existing(lost)} if lost else {}
    by_id: dict[str, IngestResult] = {}
    for email in emails:
        if email.pk is not None:
            by_id[email.message_id] = IngestResult("accepted", email)
        elif email.message_id in stored:
            by_id[email.message_id] = IngestResult("duplicate", stored[email.message_id])
        else:  # the conflicting row vanished between the two statements
            raise IntegrityError(f"could not store or find {email.message_id!r}")
    results = [
        by_id[item.message_id]
        if first[item.message_id] == index
        else IngestResult("duplicate", by_id[item.message_id].email)
        for index, item in enumerate(items)
    ]
    if any(r.result == "accepted" and not r.email.routing_reason for r in results):
        transaction.on_commit(nudge.request)  # automatic mail is set aside, never queued
    _report(items, results, time.perf_counter() - started)
    return results


def _existing(message_ids: Sequence[str]) -> list[Email]:
    return list(
        Email.objects.filter(message_id__in=set(message_ids)).only("pk", "message_id", "status")
    )


def _insert(emails: list[Email]) -> None:
    """Insert the emails whose Message-ID is new and set their primary keys; the others
    (already stored) are left with ``pk`` None."""
    if connection.vendor == "postgresql":
        _insert_on_conflict(emails)
        return
    # Other databases (SQLite in development): check, then insert, one by one on a race.
    known = {e.message_id for e in _existing([e.message_id for e in emails])}
    fresh = [e for e in emails if e.message_id not in known]
    try:
        with transaction.atomic():
            Email.objects.bulk_create(fresh)
    except IntegrityError:
        for email in fresh:
            email.pk = None
            try:
                with transaction.atomic():
                    email.save(force_insert=True)
            except IntegrityError:
                email.pk = None


_FIELDS = [f for f in Email._meta.concrete_fields if not f.primary_key]


def _as_text(field: Any, value: Any) -> str | None:
    """A column value as the text PostgreSQL casts back to the column's type."""
    if value is None:
        return None
    if isinstance(field, JSONField):
        return json.dumps(value, cls=field.encoder)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _insert_on_conflict(emails: list[Email]) -> None:
    # One array per column, unnested: the statement's text is the same for 1 or 1,000
    # rows (psycopg spent more time splitting a VALUES list of 8,500 placeholders than
    # PostgreSQL took to insert them), and every row is one ON CONFLICT check.
    table = connection.ops.quote_name(Email._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _FIELDS)
    casts = ", ".join(f"u.c{i}::{f.db_type(connection)}" for i, f in enumerate(_FIELDS))
    arrays = ", ".join(["%s::text[]"] * len(_FIELDS))
    names = ", ".join(f"c{i}" for i in range(len(_FIELDS)))
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {casts} FROM unnest({arrays}) AS u({names}) "
        "ON CONFLICT (message_id) DO NOTHING RETURNING id, message_id"
    )
    params = [[_as_text(f, f.pre_save(email, True)) for email in emails] for f in _FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = {mid: pk for pk, mid in cursor.fetchall()}
    for email in emails:
        if email.message_id in ids:
            email.pk = ids[email.message_id]
            email._state.adding = False
            email._state.db = connection.alias


def _build(item: IncomingEmail) -> Email:
    return Email(
        message_id=item.message_id,
        sender=item.sender,
        sender_name=item.sender_name,
        recipients=list(item.recipients),
        subject=item.subject,
        body_text=item.body_text,
        body_html=item.body_html,
        model_input=_model_input(item.subject, item.body_text, item.body_html),
        in_reply_to=item.in_reply_to,
        references=list(item.references),
        attachments=list(item.attachments),
        parse_defects=list(item.parse_defects),
        parse_notices=list(item.parse_notices),
        source=item.source,
        received_at=item.received_at or timezone.now(),
        status=Email.Status.SET_ASIDE if item.automatic else Email.Status.PENDING,
        routing_reason=item.automatic,
        headers=dict(item.headers),
    )


def _triage_set_aside(emails: list[Email]) -> None:
    """Automatic mail is never classified, so it is given its team here (by the routing
    rules, else the default team), low priority and no SLA."""
    aside = [e for e in emails if e.status == Email.Status.SET_ASIDE]
    if aside:
        policy = triage.load_policy()
        for email in aside:
            triage.apply(email, policy)


def _link_threads(items: list[IncomingEmail], emails: list[Email]) -> None:
    """Point replies at their thread's first email: parents stored before (one query) or
    earlier in this same call."""
    wanted = {i for item in items for i in [item.in_reply_to, *item.references] if i}
    if not wanted:
        return
    parents: dict[str, tuple] = {
        mid: (received, pk, root)
        for mid, received, pk, root in Email.objects.filter(message_id__in=wanted).values_list(
            "message_id", "received_at", "pk", "thread_root_id"
        )
    }
    linked = []
    for item, email in zip(items, emails, strict=True):
        candidates = [
            parents[i]
            for i in [item.in_reply_to, *item.references]
            if i in parents and i != item.message_id
        ]
        if not candidates:
            continue
        _, pk, root = min(candidates, key=lambda c: (c[0], c[1]))
        email.thread_root_id = root or pk
        linked.append(email)
    if linked:
        Email.objects.bulk_update(linked, ["thread_root"])


def _report(
    items: Sequence[IncomingEmail], results: list[IngestResult | None], seconds: float
) -> None:
    """One structured line and the metrics for the whole call (never one line per email)."""
    source = items[0].source
    counts = {"accepted": 0, "duplicate": 0}
    for r in results:
        counts[r.result] += 1
    for result, n in counts.items():
        if n:
            metrics.EMAILS_INGESTED.labels(source, result).inc(n)
    metrics.INGEST_SECONDS.labels(source).observe(seconds)
    extra: dict[str, Any] = {
        "source": source,
        "accepted": counts["accepted"],
        "duplicates": counts["duplicate"],
        "ms": round(seconds * 1000, 1),
    }
    if len(results) == 1:  # one email: its ids, so it can be followed to classification
        extra |= {"email_id": results[0].email.pk, "message_id": results[0].email.message_id}
    logger.info("emails ingested", extra=extra)


def count_rejected(source: str, n: int = 1) -> None:
    """Record emails refused for their content (the callers validate, so they count)."""
    if n:
        metrics.EMAILS_INGESTED.labels(source, "rejected").inc(n)


def sweep_pending(older_than: timedelta | None = None, limit: int = 1000) -> int:
    """Nudge the classification workers if emails wait longer than ``older_than``
    (CLEANINBOX_SWEEP_AFTER_SECONDS) unclaimed; returns how many such emails were found
    (counted up to ``limit``).

    Covers a nudge lost to a broker outage or a Redis restart and a worker that died
    with its batch (its lease has run out). It sends one small nudge, never a list of
    ids, so sweeps that queue up behind a backlog multiply no work.
    """
    if older_than is None:
        older_than = timedelta(seconds=settings.CLEANINBOX_SWEEP_AFTER_SECONDS)
    now = timezone.now()
    waiting = (
        Email.objects.filter(status=Email.Status.PENDING, ingested_at__lte=now - older_than)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .values("pk")[:limit]
        .count()
    )
    if waiting:
        nudge.request()
        logger.info("sweep found emails waiting; workers nudged", extra={"found": waiting})
    return waiting


class InvalidIntent(ValueError):
    pass


def record_correction(
    email: Email,
    new_intent: str,
    user: Any,
    via: str = "api",
    policy: triage.Policy | None = None,
) -> Correction:
    """Relabel one email, keeping who, when, the model's answer and the label it replaced.

    Its team, priority and SLA deadline follow the new intent (inbox.triage; ``policy``
    lets a bulk relabel load the rules once), and it counts as first handled now.
    """
    if not intents.is_intent(new_intent):
        raise InvalidIntent(f"unknown intent {new_intent!r}")
    with transaction.atomic():
        email = Email.objects.select_for_update().get(pk=email.pk)
        correction = Correction.objects.create(
            email=email,
            user=user if getattr(user, "is_authenticated", False) else None,
            previous_intent=email.intent,
            new_intent=new_intent,
            model_intent=email.predicted_intent,
            model_confidence=email.confidence,
            model_version=email.model_version,
            via=via,
        )
        email.intent = new_intent
        email.status = Email.Status.CLASSIFIED
        email.corrected_at = correction.created_at
        email.corrected_by = correction.user
        # The team follows the intent; an agent's decision is the email's first handling.
        triage.apply(email, policy or triage.load_policy())
        email.first_handled_at = email.first_handled_at or correction.created_at
        email.save(
            update_fields=[
                "intent", "status", "corrected_at", "corrected_by", "first_handled_at",
                *triage.TRIAGE_FIELDS,
            ]
        )  # fmt: skip
        signals.emails_routed.send(sender=Email, email_ids=[email.pk], cause="corrected")
        # Counted once committed: a bulk relabel that rolls back counted nothing.
        transaction.on_commit(lambda: _count_correction(correction))
    logger.info(
        "email corrected",
        extra={
            "email_id": email.pk,
            "from_intent": correction.previous_intent,
            "to_intent": new_intent,
            "user_id": getattr(correction.user, "pk", None),
            "via": via,
        },
    )
    return correction


def _count_correction(correction: Correction) -> None:
    metrics.CORRECTIONS.labels(
        correction.model_intent or "none",
        correction.model_version or "none",
        "true" if correction.agrees_with_model else "false",
    ).inc()


def relabel_many(emails: Iterable[Email], new_intent: str, user: Any, via: str) -> int:
    """Bulk relabel: one correction per email, all or nothing."""
    if not intents.is_intent(new_intent):
        raise InvalidIntent(f"unknown intent {new_intent!r}")
    with transaction.atomic():
        policy = triage.load_policy()
        count = 0
        for email in emails:
            record_correction(email, new_intent, user, via=via, policy=policy)
            count += 1
    return count


OPEN_STATUSES = (Email.Status.CLASSIFIED, Email.Status.NEEDS_REVIEW, Email.Status.FAILED)


def reroute_open(batch: int = 1000) -> int:
    """Give every email not yet handled the team, priority and SLA deadline the current
    rules and routes decide (after an admin changed them); returns how many changed."""
    policy = triage.load_policy()
    open_emails = Email.objects.filter(status__in=OPEN_STATUSES, first_handled_at__isnull=True)
    changed = 0
    fields = ["pk", "intent", "sender", "headers", "received_at", "ingested_at", "source",
              "status", "team", "priority", "sla_due_at"]  # fmt: skip
    with transaction.atomic():
        for email in open_emails.only(*fields).order_by("pk").iterator(chunk_size=batch):
            before = (email.team_id, email.priority, email.sla_due_at)
            triage.apply(email, policy)
            if (email.team_id, email.priority, email.sla_due_at) != before:
                Email.objects.filter(pk=email.pk).update(
                    team=email.team_id, priority=email.priority, sla_due_at=email.sla_due_at
                )
                changed += 1
    logger.info("open emails re-routed", extra={"changed": changed})
    return changed


def mark_handled(email: Email, user: Any, via: str = "ui") -> bool:
    """Record that an agent handled the email (answered it, passed it on) without
    changing its intent; the first handling stops its SLA clock. False if it already was."""
    with transaction.atomic():
        updated = Email.objects.filter(pk=email.pk, first_handled_at__isnull=True).update(
            first_handled_at=timezone.now()
        )
    logger.info(
        "email handled",
        extra={
            "email_id": email.pk,
            "first": bool(updated),
            "user_id": getattr(user, "pk", None),
            "via": via,
        },
    )
    return bool(updated)


def requeue(emails: Iterable[Email]) -> int:
    """Send emails back to pending and wake the workers (after a failure or a new model)."""
    ids = [e.pk for e in emails if not e.is_corrected and e.status != Email.Status.SET_ASIDE]
    with transaction.atomic():
        Email.objects.filter(pk__in=ids).update(
            status=Email.Status.PENDING, last_error="", claimed_until=None
        )
        transaction.on_commit(nudge.request)
    return len(ids)
