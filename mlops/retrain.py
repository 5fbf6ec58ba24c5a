"""The retraining policy and one retraining cycle, one at a time.

``decide`` says whether to retrain now, and why: at least CLEANINBOX_RETRAIN_MIN_CORRECTIONS
corrections since the last cycle (or, before any, since the production version was
made), a drift alarm since then (CLEANINBOX_RETRAIN_ON_DRIFT), or a production version
older than CLEANINBOX_RETRAIN_MAX_AGE_DAYS. Never while a candidate still waits for its
gates: its verdict comes first.

``run`` (the beat task on the ``training`` queue and ``manage.py retrain``) does one cycle,
timing each step in its RetrainRun row:

1. data      BANKING77's prepared train split plus agents' corrections (latest label wins,
             PII masked: lifecycle.corrected_examples), dropping any that duplicate a
             test or validation query;
2. train     the default recipe (CLEANINBOX_RETRAIN_CONFIG, wandb as train_model does),
             with the lineage block attached (mlops.lineage); with
             CLEANINBOX_RETRAIN_TEACHER, that recipe distilled from those teacher members
             (mlops.distill: the teacher's cached outputs are reused, only the corrections'
             texts are new to it), so a distilled student in production is followed by a
             student of the same shape, not by the default model;
3. evaluate  on test at the validation threshold (lifecycle.evaluate_version);
4. export    ONNX fp32 and int8, picking the variant that would serve (mlops.serving);
5. gates     measured on test against production (mlops.gates.measure_offline);
6. publish   the serving variant to GCS, when GCS_BUCKET is set;
7. shadow    the candidate starts answering live mail in shadow, and its gates are checked
             once at once (a candidate that fails on test is refused right away).

One at a time: the run holds a PostgreSQL advisory lock for its whole life and records
itself as the one ``running`` RetrainRun row (a partial unique index). The lock is tied to
the worker's database session, so a worker that dies frees it; the next run finds the
orphaned ``running`` row, marks it ``abandoned`` and goes ahead. No in-process flag.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from cleaninbox import metrics
from inbox.models import Correction
from mlops import data, gates, lifecycle, lineage, promotion, registry, shadow
from mlops.config import load_config
from mlops.models import CandidateState, DriftRun, ModelEvent, ModelVersion, RetrainRun

logger = logging.getLogger(__name__)

# pg_try_advisory_lock key: any fixed 64-bit number no other code uses ("retrain").
LOCK_KEY = 0x7265747261696E


class Busy(Exception):
    """Another retraining cycle holds the lock."""


@dataclass
class Decision:
    """Whether the policy wants a retrain now, why (or why not), and the facts it used."""

    due: bool
    reasons: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)


def decide(now=None) -> Decision:
    """Apply the policy (module docstring) to the database as it is now."""
    now = now or timezone.now()
    s = settings
    waiting = CandidateState.objects.filter(verdict=CandidateState.Verdict.PENDING).first()
    if waiting is not None:
        return Decision(False, [f"candidate {waiting.version.version} still waits for its gates"])
    production = registry.active()
    last_run = RetrainRun.objects.filter(status=RetrainRun.Status.SUCCEEDED).first()
    since = max(
        [t for t in (getattr(production, "created_at", None), getattr(last_run, "created_at", None)) if t],
        default=None,
    )  # fmt: skip
    corrections = Correction.objects.filter(**({"created_at__gt": since} if since else {}))
    n = corrections.count()
    facts = {"since": since.isoformat() if since else None, "new_corrections": n,
             "production": getattr(production, "version", None)}  # fmt: skip
    reasons = []
    if s.CLEANINBOX_RETRAIN_MIN_CORRECTIONS > 0 and n >= s.CLEANINBOX_RETRAIN_MIN_CORRECTIONS:
        reasons.append(f"{n} new corrections (≥ {s.CLEANINBOX_RETRAIN_MIN_CORRECTIONS})")
    if s.CLEANINBOX_RETRAIN_ON_DRIFT:
        alarms = DriftRun.objects.filter(alarm=True, **({"created_at__gt": since} if since else {}))
        alarm = alarms.order_by("-created_at").first()
        if alarm is not None:
            reasons.append(f"drift alarm (run {alarm.pk}: {', '.join(alarm.drifted) or 'drift'})")
            facts["drift_run"] = alarm.pk
    max_age = s.CLEANINBOX_RETRAIN_MAX_AGE_DAYS
    if production is not None and max_age > 0:
        age = now - production.created_at
        facts["production_age_days"] = round(age.total_seconds() / 86400, 1)
        if age > timedelta(days=max_age) and (last_run is None or now - last_run.created_at > timedelta(days=max_age)):  # fmt: skip
            reasons.append(f"production is {age.days} days old (> {max_age})")
    return Decision(bool(reasons), reasons or ["nothing calls for a retrain"], facts)


def run(
    trigger: str = RetrainRun.Trigger.BEAT, force: bool = False, progress: bool = False,
    overrides: list[str] | None = None, wait: float = 0.0,
) -> tuple[Decision, RetrainRun | None]:  # fmt: skip
    """One cycle if the policy (or ``force``) says so; returns (decision, run or None).

    Raises ``Busy`` when another cycle still holds the lock after ``wait`` seconds. Beat's
    check holds it for milliseconds even when nothing is due, so a person's request
    (``manage.py retrain``) waits a little rather than calling that a running cycle.
    """
    with retrain_lock(wait):
        decision = decide()
        if force:
            decision = Decision(True, ["forced", *decision.reasons], decision.facts)
        if not decision.due:
            logger.info("no retrain due: %s (%s)", "; ".join(decision.reasons), decision.facts)
            return decision, None
        row = RetrainRun.objects.create(
            trigger=trigger, reasons=decision.reasons, host=f"{socket.gethostname()}:{os.getpid()}",
            parent_version=decision.facts.get("production") or "",
        )  # fmt: skip
        try:
            _cycle(row, progress, overrides or [])
        except Exception as exc:
            row.status, row.error = RetrainRun.Status.FAILED, f"{type(exc).__name__}: {exc}"[:4000]
            row.finished_at = timezone.now()
            row.save()
            ModelEvent.objects.create(kind=ModelEvent.Kind.RETRAIN_FAILED, version=row.trained_version or "-", reason=row.error)  # fmt: skip
            metrics.RETRAIN_RUNS.labels("failed").inc()
            logger.exception("retrain failed", extra={"retrain_run": row.pk})
            raise
        return decision, row


@contextmanager
def retrain_lock(wait: float = 0.0) -> Iterator[None]:
    """Hold the advisory lock (trying for up to ``wait`` seconds), or raise Busy; mark runs
    left ``running`` as abandoned."""
    deadline = time.monotonic() + wait
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            (locked,) = cursor.fetchone()
        if locked:
            break
        if time.monotonic() >= deadline:
            raise Busy("another retraining cycle is running")
        time.sleep(0.2)
    try:
        # Holding the lock, no live run exists: a ``running`` row is a dead worker's.
        RetrainRun.objects.filter(status=RetrainRun.Status.RUNNING).update(
            status=RetrainRun.Status.ABANDONED, finished_at=timezone.now(),
            error="its worker stopped before finishing (the lock was free)",
        )  # fmt: skip
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


@contextmanager
def _step(row: RetrainRun, name: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    row.steps = {**row.steps, name: round(time.monotonic() - started, 1)}
    row.save(update_fields=["steps", "candidate_version", "trained_version", "n_corrections"])
    logger.info("retrain step done", extra={"retrain_run": row.pk, "step": name, "seconds": row.steps[name]})  # fmt: skip


def _cycle(row: RetrainRun, progress: bool, overrides: list[str]) -> None:
    from mlops import serving, training  # torch: only in the process that trains

    data_dir, model_dir = Path(settings.CLEANINBOX_DATA_DIR), Path(settings.CLEANINBOX_MODEL_DIR)
    production = registry.active()
    config = load_config(settings.CLEANINBOX_RETRAIN_CONFIG,
                         [*settings.CLEANINBOX_RETRAIN_OVERRIDES, *overrides])  # fmt: skip
    # Before any work: a teacher member that is gone fails the cycle here, by name.
    teacher = [registry.folder_of(name) for name in settings.CLEANINBOX_RETRAIN_TEACHER]
    with _step(row, "data"):
        manifest = data.verify(data_dir)
        examples, dropped = training_examples(data_dir)
        row.n_corrections = len(examples)
    block = lineage.build(
        data_manifest_sha256=manifest["manifest_sha256"],
        correction_ids=[e.correction_id for e in examples],
        email_ids=[e.email_id for e in examples], dropped=dropped,
        parent=getattr(production, "version", None), config=config.to_dict(),
        retrain_run=row.pk, trigger=row.trigger,
    )  # fmt: skip
    with _step(row, "train"):
        extra = [(e.text, e.label) for e in examples]
        if teacher:
            from mlops import distill

            path = distill.distill(config, teacher, data_dir, model_dir, extra_examples=extra,
                                   progress=progress,
                                   cache_dir=settings.CLEANINBOX_TEACHER_CACHE_DIR)  # fmt: skip
        else:
            path = training.train(config, data_dir, model_dir, extra_examples=extra,
                                  progress=progress)  # fmt: skip
        lineage.attach(path, block)
        trained = registry.register(path)
        row.trained_version = trained.version
    with _step(row, "evaluate"):
        lifecycle.evaluate_version(trained.version, data_dir, progress=progress)
    with _step(row, "export"):
        candidate, reason = serving.export_variants(
            registry.get(trained.version), model_dir, data_dir
        )
        picked = (
            None
            if candidate is None
            else ("int8" if candidate.version.endswith("-int8") else "fp32")
        )
        if candidate is None:  # still registered and shadowed, refused by the parity gate
            candidate = registry.get(f"{trained.version}-onnx-int8")
        lineage.attach(registry.local_path(candidate), block, exported_from=trained.version)
        candidate = registry.register(registry.local_path(candidate))
        lifecycle.evaluate_version(candidate.version, data_dir, progress=progress)
        candidate = registry.get(candidate.version)
        row.candidate_version = candidate.version
    with _step(row, "gates"):
        verdict = {"picked": picked, "reason": reason}
        offline = gates.measure_offline(candidate, production, data_dir, verdict)
        state, _ = CandidateState.objects.update_or_create(
            version=candidate, defaults={"retrain_run": row, "offline": offline}
        )
    if settings.GCS_BUCKET:
        with _step(row, "publish"):
            lifecycle.publish(candidate.version, overwrite=True, progress=progress)
    ModelEvent.objects.create(
        kind=ModelEvent.Kind.CANDIDATE, version=candidate.version,
        previous=getattr(production, "version", ""), reason="; ".join(row.reasons),
        detail={"retrain_run": row.pk, "steps": row.steps},
    )  # fmt: skip
    if production is not None:
        shadow.start(candidate)
    state = promotion.check(CandidateState.objects.get(pk=state.pk))
    row.status, row.finished_at = RetrainRun.Status.SUCCEEDED, timezone.now()
    row.save()
    metrics.RETRAIN_RUNS.labels("succeeded").inc()
    logger.info(
        "retrain cycle done",
        extra={"retrain_run": row.pk, "model_version": candidate.version, "steps": row.steps,
               "verdict": state.verdict},
    )  # fmt: skip


def training_examples(data_dir: Path) -> tuple[list[lifecycle.CorrectedExample], dict[str, int]]:
    """Corrections to add to train, and counts of those dropped: a correction whose text is
    a test or validation query would leak that split's label into training."""
    from mlops.training import normalise

    held_out = {
        split: {normalise(text) for text in data.load_split(data_dir, split)[0]}
        for split in ("test", "validation")
    }
    kept, dropped = [], {"dropped_in_test": 0, "dropped_in_validation": 0}
    for example in lifecycle.corrected_examples():
        key = normalise(example.text)
        if key in held_out["test"]:
            dropped["dropped_in_test"] += 1
        elif key in held_out["validation"]:
            dropped["dropped_in_validation"] += 1
        else:
            kept.append(example)
    return kept, dropped


def latest_candidate() -> ModelVersion | None:
    state = CandidateState.objects.select_related("version").order_by("-id").first()
    return state.version if state else None
