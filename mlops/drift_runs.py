"""Drift checks on stored mail: choose a window, build the reference, decide, store, export.

``run_drift_check`` is what Celery beat (``mlops.tasks.check_drift``, queue "maintenance")
and ``manage.py drift_check`` both call. It runs off the ingest and classification path:
it reads committed emails, re-runs the production model on the window's texts (to get the
full probability vectors, which emails do not store) and writes one ``DriftRun`` with one
``DriftCheck`` per check, the Prometheus gauges and the Drift page's plots.

The reference comes from the production version and the prepared data in
CLEANINBOX_DATA_DIR: the training split's intent prior and vocabulary, and the model's
probabilities on the validation split (computed once per version and kept under
CLEANINBOX_REPORTS_DIR/drift/reference/). When the prepared data is not the data the
version was trained on (its manifest hash differs), the run says so in its notes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction

from classifier import runtime
from classifier.artifact import Classifier
from cleaninbox.metrics import DRIFT_ALARM, DRIFT_SCORE
from inbox.models import Email
from mlops import data, drift, registry
from mlops.models import DriftCheck, DriftRun, ModelVersion

logger = logging.getLogger(__name__)

# Automatic mail is set aside before any model sees it: it is not what customers ask.
AUTOMATIC_REASONS = ("auto_reply", "bounce", "mailing_list", "nothing_to_classify")
REVIEW_REASONS = ("out_of_scope",)  # sent to review for a reason other than confidence
PREDICT_BATCH = 64


class DriftError(Exception):
    """The check cannot run: no model in production, no prepared data, a bad window."""


@dataclass(frozen=True)
class WindowSpec:
    """Either the last ``last`` emails (before ``until`` if given), or a time range."""

    last: int | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.last is None and self.since is None:
            raise DriftError("a window needs --last N or --since")
        if self.last is not None and self.last < 1:
            raise DriftError(f"--last must be a positive number of emails, got {self.last}")
        if self.since and self.until and self.since >= self.until:
            raise DriftError("--since must be before --until")


def _customer_mail():
    return (
        Email.objects.exclude(routing_reason__in=AUTOMATIC_REASONS)
        .only(
            "id", "received_at", "model_input", "subject", "body_text", "routing_reason", "status"
        )
        .order_by("-received_at", "-id")
    )


def select(spec: WindowSpec) -> tuple[list[Email], list[Email]]:
    """The window's emails and the equally long window just before it (oldest first)."""
    mail = _customer_mail()
    if spec.last is not None:
        if spec.until:
            mail = mail.filter(received_at__lt=spec.until)
        if spec.since:
            mail = mail.filter(received_at__gte=spec.since)
        both = list(mail[: 2 * spec.last])
        window, previous = both[: spec.last], both[spec.last :]
    else:
        until = spec.until or datetime.now(tz=spec.since.tzinfo)
        span = until - spec.since
        window = list(mail.filter(received_at__gte=spec.since, received_at__lt=until))
        previous = list(mail.filter(received_at__gte=spec.since - span, received_at__lt=spec.since))
    return window[::-1], previous[::-1]


# --- the reference -----------------------------------------------------------------------

_references: dict[tuple, drift.Reference] = {}


def reference_for(
    row: ModelVersion, model: Classifier, data_dir: Path
) -> tuple[drift.Reference, str]:
    """The reference for the production version, and a note when the data does not match."""
    manifest = data.read_manifest(data_dir).get("manifest_sha256") or ""
    trained_on = (row.metadata or {}).get("data_manifest_sha256") or ""
    note = ""
    if trained_on and manifest and trained_on != manifest:
        note = (
            f"The prepared data in {data_dir} ({manifest[:12]}) is not the data {row.version} was "
            f"trained on ({trained_on[:12]}); the reference is approximate."
        )
    threshold = runtime.threshold_for(row.threshold)
    key = (row.version, row.local_path, manifest, model.temperature, threshold)
    if key not in _references:
        train_texts, train_labels = data.load_split(data_dir, "train")
        val_texts, _ = data.load_split(data_dir, "validation")
        _references[key] = drift.Reference(
            labels=model.labels,
            prior=drift.training_prior(model.labels, train_labels),
            vocabulary=drift.vocabulary(train_texts),
            texts=val_texts,
            probabilities=_validation_probabilities(row, model, val_texts, manifest),
            threshold=threshold,
        )
    return _references[key], note


def _validation_probabilities(
    row: ModelVersion, model: Classifier, texts: list[str], manifest: str
) -> np.ndarray:
    folder = Path(settings.CLEANINBOX_REPORTS_DIR) / "drift" / "reference"
    path = folder / f"{row.version}.npz"
    stamp = json.dumps([manifest, model.temperature, len(texts)])
    if path.is_file():
        cached = np.load(path)
        if str(cached["stamp"]) == stamp:
            return cached["probabilities"]
    probabilities = predict(model, texts)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    np.savez_compressed(tmp, probabilities=probabilities, stamp=np.array(stamp))
    tmp.replace(path)
    return probabilities


def predict(
    model: Classifier, texts: list[str], progress: Callable[[int], None] | None = None
) -> np.ndarray:
    out = []
    for start in range(0, len(texts), PREDICT_BATCH):
        batch = texts[start : start + PREDICT_BATCH]
        out.append(model.predict_proba(batch))
        if progress:
            progress(len(batch))
    return np.vstack(out) if out else np.zeros((0, len(model.labels)))


def _window(emails: list[Email], model: Classifier, progress) -> drift.Window:
    texts = [e.classifier_text for e in emails]
    return drift.Window(
        texts=texts,
        probabilities=predict(model, texts, progress),
        flagged_not_english=np.array([e.routing_reason == "not_english" for e in emails], bool),
        sent_to_review=np.array([e.routing_reason in REVIEW_REASONS for e in emails], bool),
    )


# --- one run -----------------------------------------------------------------------------


def run_drift_check(
    spec: WindowSpec,
    *,
    trigger: str = DriftRun.Trigger.COMMAND,
    alpha: float | None = None,
    skip_if_unchanged: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> DriftRun | None:
    """Check one window, store the run, set the gauges and draw the plots.

    ``progress(done, total)`` is called as the model reads the emails. With
    ``skip_if_unchanged`` (the scheduled job) nothing is stored when no email arrived
    since the last run with the same model; returns None then.
    """
    started = time.monotonic()
    row = registry.active()
    if row is None:
        raise DriftError("no model in production: nothing to compare the mail with")
    model = runtime.active_classifier()
    if model is None or model.version != row.version:
        raise DriftError(f"the production model {row.version} cannot be loaded")
    window_emails, previous_emails = select(spec)
    last = DriftRun.objects.first()
    if (
        skip_if_unchanged
        and last is not None
        and window_emails
        and last.last_email_id == window_emails[-1].pk
        and last.model_version == row.version
    ):
        return None
    try:
        reference, note = reference_for(row, model, Path(settings.CLEANINBOX_DATA_DIR))
    except data.DataMissing as exc:
        raise DriftError(str(exc)) from exc

    total, done = len(window_emails) + len(previous_emails), 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    window = _window(window_emails, model, tick)
    previous = _window(previous_emails, model, tick) if previous_emails else None
    evaluation = drift.evaluate(
        window,
        reference,
        previous,
        alpha=alpha if alpha is not None else settings.CLEANINBOX_DRIFT_ALPHA,
    )
    notes = [note] if note else []
    if len(window_emails) < drift.MIN_EMAILS:
        notes.append(
            f"Only {len(window_emails)} emails in the window; checks need {drift.MIN_EMAILS}."
        )
    with transaction.atomic():
        run = DriftRun.objects.create(
            trigger=trigger,
            window_start=window_emails[0].received_at if window_emails else None,
            window_end=window_emails[-1].received_at if window_emails else None,
            first_email_id=window_emails[0].pk if window_emails else None,
            last_email_id=window_emails[-1].pk if window_emails else None,
            n_emails=len(window_emails),
            n_previous=len(previous_emails),
            model_version=row.version,
            data_manifest_sha256=(
                data.read_manifest(settings.CLEANINBOX_DATA_DIR).get("manifest_sha256") or ""
            )[:64],
            alpha=evaluation.alpha,
            alarm=evaluation.alarm,
            drifted=evaluation.drifted,
            summary=evaluation.summary,
            notes="\n".join(notes),
            duration_seconds=time.monotonic() - started,
        )
        DriftCheck.objects.bulk_create(
            DriftCheck(
                run=run,
                name=c.name,
                score=_finite(c.score),
                p_value=_finite(c.p_value),
                threshold=c.threshold,
                verdict=c.verdict,
                detail=c.detail,
            )  # fmt: skip
            for c in evaluation.checks
        )
    export_gauges(run)
    try:
        from mlops import drift_plots

        drift_plots.draw(run)
    except Exception:  # a plot is not worth losing the verdicts for
        logger.exception("drift plots failed", extra={"drift_run": run.pk})
    logger.info(
        "drift checked",
        extra={
            "drift_run": run.pk,
            "emails": run.n_emails,
            "alarm": run.alarm,
            "drifted": run.drifted,
        },
    )
    return run


def export_gauges(run: DriftRun) -> None:
    """Set cleaninbox_drift_score and cleaninbox_drift_alarm from a stored run."""
    for check in run.checks.all():
        DRIFT_SCORE.labels(check=check.name).set(
            check.score if check.score is not None else float("nan")
        )
        DRIFT_ALARM.labels(check=check.name).set(1.0 if check.verdict == drift.DRIFT else 0.0)


def _finite(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def alarm_since(
    runs: list[DriftRun], checks_by_run: dict[int, dict[str, DriftCheck]], name: str
) -> tuple[DriftRun | None, DriftRun | None]:
    """For a check that drifts now: the first run of its unbroken streak of drift and the
    last quiet run before it (``runs`` newest first). The shift began after the quiet run's
    last email and before the first drifted run's last email."""
    first = quiet = None
    for run in runs:
        check = checks_by_run.get(run.pk, {}).get(name)
        if check is None or check.verdict != drift.DRIFT:
            quiet = run if check is not None else None
            break
        first = run
    return first, quiet
