"""A model version's life after training: evaluate, publish, pull, promote, roll back.

The manage.py commands and the admin actions are thin callers of these functions, so the
same rules hold everywhere: a version that does not load with the 77 configured intents
is never promoted, test numbers are measured at the threshold chosen on validation, and
agents' corrections leave the database only with card numbers and IBANs masked.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Exists, OuterRef, Subquery
from tqdm import tqdm

from classifier import artifact
from inbox import intents
from inbox.models import Correction, Email
from inbox.pii import mask_pii
from mlops import data, gcs, registry, thresholds
from mlops.evaluation import (
    EvaluationReport,
    OperatingPoint,
    evaluate,
    fit_temperature,
    format_summary,
    save_plots,
)
from mlops.models import ModelVersion

logger = logging.getLogger(__name__)

# Errors that mean "this cannot be done as asked", each with a message for a person.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (
    registry.RegistryError,
    artifact.UnusableModel,
    artifact.ArtifactWriteError,
    data.DataError,
    gcs.GCSError,
)

REPORT_FILE = "report.json"
# save_plots' names -> the file names the web UI links to.
PLOT_FILES = {
    "confusion_matrix": "confusion_matrix.png",
    "reliability": "reliability.png",
    "risk_coverage": "selective.png",
}
PREDICT_CHUNK = 256


@dataclass
class Evaluation:
    """The outcome of ``evaluate_version``: the test report and where it was written."""

    version: str
    report: EvaluationReport
    serving_threshold: float | None
    report_dir: Path
    notes: list[str] = field(default_factory=list)
    promise: dict = field(default_factory=dict)  # validation headline: the promise made there
    email_shaped: OperatingPoint | None = None

    def summary(self) -> str:
        """The lines evaluate_model and train_model --evaluate print."""
        lines = [f"Test split, {self.version}:", format_summary(self.report)]
        lines += [f"note: {note}" for note in self.notes]
        lines.append(
            f"serving threshold (chosen on validation): {_fmt(self.serving_threshold)}; "
            f"test-recommended would be {_fmt(self.report.threshold)} (not used)"
        )
        lines += self._promise_lines()
        lines.append(f"report and plots: {self.report_dir}")
        return "\n".join(lines)

    def _promise_lines(self) -> list[str]:
        bound, delta = self.promise.get("promised_error"), self.promise.get("threshold_delta")
        target = self.promise.get("target_error", self.report.target_error)
        if bound is None or delta is None:
            lines = [f"promise: none (no threshold keeps the error within {target:.1%})"]
        else:
            lines = [
                f"promise (validation): error among auto-routed ≤ {target:.1%} with probability "
                f"{1 - delta:.0%} (upper bound {bound:.2%})"
            ]
        for name, point in (
            ("test", self.report.at_threshold),
            ("test, email-shaped", self.email_shaped),
        ):
            if point is not None:
                error = "n/a" if point.error is None else f"{point.error:.2%}"
                lines.append(f"measured, {name}: {point.coverage:.1%} auto-routed, {error} wrong")
        return lines


def _fmt(value: float | None) -> str:
    return "none" if value is None else f"{value:.3f}"


@dataclass(frozen=True)
class PromotionDecision:
    """What ``promote_if_better`` did, and which version serves afterwards."""

    promoted: bool
    candidate: str
    candidate_accuracy: float | None
    previous: str | None
    previous_accuracy: float | None
    active: str | None
    reason: str


# --- promotion ---------------------------------------------------------------------------


def promote(version: str) -> ModelVersion:
    """Make ``version`` serve; refuses an artifact that does not load with the 77 intents."""
    return registry.promote(version)


def rollback() -> ModelVersion:
    """Serve the version that served before the current one."""
    return registry.rollback()


def promote_if_better(version: str) -> PromotionDecision:
    """Promote ``version`` only if its validation accuracy beats the active model's."""
    candidate = registry.get(version)
    current = registry.active()
    new_acc, old_acc = candidate.validation_accuracy, getattr(current, "validation_accuracy", None)
    previous = current.version if current else None
    if current is not None and current.pk == candidate.pk:
        reason = f"{version} is already the active model"
        promoted = False
    elif new_acc is None:
        reason = f"{version} has no validation accuracy to compare"
        promoted = False
    elif current is None or old_acc is None or new_acc > old_acc:
        promote(version)
        reason = (
            "no active model to compare with"
            if current is None or old_acc is None
            else f"validation accuracy {new_acc:.2%} beats {old_acc:.2%}"
        )
        promoted = True
    else:
        reason = f"validation accuracy {new_acc:.2%} does not beat {previous}'s {old_acc:.2%}"
        promoted = False
    if current is not None and not _same_validation_data(candidate, current):
        reason += " (note: the two were validated on different data)"
    active = registry.active()
    return PromotionDecision(
        promoted, version, new_acc, previous, old_acc, active.version if active else None, reason
    )


def _same_validation_data(a: ModelVersion, b: ModelVersion) -> bool:
    key = "data_manifest_sha256"
    return a.metadata.get(key) == b.metadata.get(key)


# --- evaluation --------------------------------------------------------------------------


def evaluate_version(
    version: str | None = None,
    data_dir: Path | None = None,
    progress: bool = True,
    email_shape: Callable[[list[str]], list[str]] | None = None,
) -> Evaluation:
    """Evaluate a version (default: the active one) on the held-out test split.

    Probabilities use the temperature fitted on validation (fitted now and stored if the
    artifact lacks one); coverage and error are reported at the threshold chosen on
    validation, which stays the version's serving threshold. Writes report.json and the
    PNGs into CLEANINBOX_REPORTS_DIR/<version>/ and stores the test headline with the
    version (metadata.json and the registry row). ``email_shape`` turns test queries into
    the cleaned text of emails built around them; routing is measured on those too.
    """
    row = _version_or_active(version)
    data_dir = Path(data_dir or settings.CLEANINBOX_DATA_DIR)
    manifest = data.verify(data_dir)
    labels = data.load_labels(data_dir)
    path = registry.local_path(row)
    model = artifact.load(path, expected_labels=labels)
    notes = []
    if model.metadata.get("data_manifest_sha256") not in (None, manifest["manifest_sha256"]):
        notes.append("the version was trained on other data than the data folder holds")

    meta_changes = _calibrate_on_validation(model, data_dir, progress, notes)
    threshold = model.threshold
    target = (model.metadata.get("metrics") or {}).get("validation", {}).get("target_error", 0.02)

    texts, y = data.load_split(data_dir, "test")
    probs = predict_proba(model, texts, progress=progress, desc=f"test {row.version}")
    report = evaluate(labels, y, probs, target_error=target, threshold=threshold)
    report_dir = _write_report(report, Path(settings.CLEANINBOX_REPORTS_DIR) / row.version)
    shaped = None
    if email_shape is not None:
        shaped_probs = predict_proba(model, email_shape(texts), progress, "test, email-shaped")
        shaped = evaluate(labels, y, shaped_probs, target_error=target, threshold=threshold)

    metrics = {**(model.metadata.get("metrics") or {}), **meta_changes.pop("metrics", {})}
    metrics["test"] = {
        **report.headline(),
        "data_manifest_sha256": manifest["manifest_sha256"],
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if shaped is not None and shaped.at_threshold is not None:
        metrics["test"]["email_shaped_accuracy"] = shaped.accuracy
        metrics["test"]["email_shaped_coverage"] = shaped.at_threshold.coverage
        metrics["test"]["email_shaped_error"] = shaped.at_threshold.error
    artifact.update_metadata(path, metrics=metrics, **meta_changes)
    registry.register(path)
    logger.info(
        "model evaluated on test",
        extra={"model_version": row.version, "accuracy": round(report.accuracy, 4)},
    )
    return Evaluation(
        row.version, report, threshold, report_dir, notes,
        promise=metrics.get("validation") or {},
        email_shaped=shaped.at_threshold if shaped is not None else None,
    )  # fmt: skip


def _calibrate_on_validation(
    model: artifact.Classifier, data_dir: Path, progress: bool, notes: list[str]
) -> dict:
    """Fit the temperature, pick the threshold and the out-of-scope limit on validation
    when the artifact lacks them or chose its threshold by an older rule.

    Updates ``model.metadata`` in place and returns the metadata changes to store.
    """
    meta = model.metadata
    has_temperature = meta.get("temperature") is not None
    has_validation = bool((meta.get("metrics") or {}).get("validation"))
    current = meta.get("threshold_rule") == thresholds.RULE and meta.get("energy_limit") is not None
    if has_temperature and has_validation and current:
        return {}
    texts, y = data.load_split(data_dir, "validation")
    changes: dict = {}
    logits = np.concatenate(
        [model.logits(texts[i : i + PREDICT_CHUNK]) for i in range(0, len(texts), PREDICT_CHUNK)]
    ).astype(np.float64)
    if not has_temperature:
        index = {name: i for i, name in enumerate(model.labels)}
        changes["temperature"] = meta["temperature"] = fit_temperature(
            logits, [index[label] for label in y]
        )
        notes.append(f"fitted temperature {changes['temperature']:.3f} on validation")
    scaled = logits / model.temperature
    report = evaluate(model.labels, y, artifact.softmax(scaled))
    if has_validation and not current:
        notes.append(
            f"threshold re-chosen with a bound ({thresholds.RULE}): "
            f"{_fmt(meta.get('threshold'))} → {_fmt(report.threshold)}"
        )
    changes["threshold"] = meta["threshold"] = report.threshold
    changes["threshold_rule"] = meta["threshold_rule"] = thresholds.RULE
    changes["energy_limit"] = meta["energy_limit"] = thresholds.energy_limit(
        artifact.energy(scaled, model.temperature)
    )
    changes["metrics"] = {"validation": report.headline()}
    notes.append("measured validation and chose the threshold on it")
    return changes


def predict_proba(
    model: artifact.Classifier, texts: Sequence[str], progress: bool = True, desc: str = "predict"
) -> np.ndarray:
    """``model.predict_proba`` in chunks, with a progress bar."""
    parts = []
    with tqdm(total=len(texts), desc=desc, unit="text", disable=not progress) as bar:
        for start in range(0, len(texts), PREDICT_CHUNK):
            chunk = texts[start : start + PREDICT_CHUNK]
            parts.append(model.predict_proba(chunk))
            bar.update(len(chunk))
    return np.concatenate(parts) if parts else np.zeros((0, len(model.labels)))


def _write_report(report: EvaluationReport, report_dir: Path) -> Path:
    """Write report.json and the plots into a fresh folder, then swap it into place."""
    report_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = report_dir.parent / f".tmp-{report_dir.name}-{uuid.uuid4().hex[:8]}"
    try:
        written = save_plots(report, tmp)
        for key, path in written.items():
            path.rename(tmp / PLOT_FILES.get(key, path.name))
        (tmp / REPORT_FILE).write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
        if report_dir.exists():
            shutil.rmtree(report_dir)
        tmp.rename(report_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report_dir


def _version_or_active(version: str | None) -> ModelVersion:
    if version:
        return registry.get(version)
    row = registry.active()
    if row is None:
        raise registry.RegistryError("no active model; name a version or promote one first")
    return row


# --- remote copies -----------------------------------------------------------------------


def publish(version: str, overwrite: bool = False, progress: bool = True) -> ModelVersion:
    """Upload a registered version to GCS and record where it went."""
    row = registry.get(version)
    row.remote_uri = gcs.upload_version(
        registry.local_path(row), version, overwrite=overwrite, progress=progress
    )
    row.save(update_fields=["remote_uri"])
    return row


def pull(
    version: str, dest: Path | None = None, progress: bool = True
) -> tuple[ModelVersion, bool]:
    """Download a published version and register it; returns (row, downloaded).

    A folder already holding that exact, intact version is registered as it is.
    """
    dest = Path(dest) if dest else registry.version_dir(version)
    downloaded = True
    if dest.exists() and _holds_intact(dest, version):
        downloaded = False
    else:
        gcs.download_version(version, dest, progress=progress)
    row = registry.register(dest)
    row.remote_uri = gcs.version_uri(version)
    row.save(update_fields=["remote_uri"])
    return row, downloaded


def _holds_intact(path: Path, version: str) -> bool:
    try:
        meta = artifact.read_metadata(path)
        artifact.verify_checksums(path, meta)
    except artifact.UnusableModel:
        return False
    return meta["version"] == version


# --- corrections -------------------------------------------------------------------------


@dataclass(frozen=True)
class CorrectedExample:
    """One corrected email as training data: its latest correction's label, PII masked."""

    email_id: int
    correction_id: int
    text: str
    label: str


def corrected_examples() -> list[CorrectedExample]:
    """Every corrected email, the latest correction winning, with the ids that trace it.

    Texts are what the classifier saw, with card numbers and IBANs masked: the pairs end
    up in training data, artifacts and experiment logs.
    """
    latest = Correction.objects.filter(email=OuterRef("pk")).order_by("-created_at", "-id")
    rows = (
        Email.objects.filter(Exists(Correction.objects.filter(email=OuterRef("pk"))))
        .annotate(
            label=Subquery(latest.values("new_intent")[:1]),
            correction_id=Subquery(latest.values("id")[:1]),
        )
        .order_by("pk")
    )
    examples = []
    for email in rows.iterator():
        text = mask_pii(email.classifier_text).strip()
        if text and intents.is_intent(email.label):
            examples.append(CorrectedExample(email.pk, email.correction_id, text, email.label))
    return examples


def corrections_for_training() -> list[tuple[str, str]]:
    """(text, intent) for every corrected email, the latest correction winning (PII masked)."""
    return [(example.text, example.label) for example in corrected_examples()]
