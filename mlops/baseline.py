"""Train the quick TF-IDF baseline as a model version, calibrated on the validation split."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np

from classifier.artifact import energy, write_artifact
from classifier.baseline import PIPELINE_FILE, TfidfClassifier, build_pipeline
from mlops import data
from mlops.evaluation import evaluate, fit_temperature
from mlops.thresholds import RULE, energy_limit

logger = logging.getLogger(__name__)


def train_baseline(data_dir: Path, model_dir: Path, *, progress: bool = True) -> Path:
    """Fit word+char TF-IDF + logistic regression on train; temperature and metrics from
    validation. Returns the new version folder under ``model_dir``."""
    labels = data.load_labels(data_dir)
    texts, y = data.load_split(data_dir, "train")
    val_texts, val_y = data.load_split(data_dir, "validation")
    started = time.monotonic()
    pipeline = build_pipeline()
    pipeline.fit(texts, y)
    version = f"tfidf-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    meta = {
        "version": version,
        "kind": TfidfClassifier.kind,
        "labels": labels,
        "base_model": "tfidf-word-char-logreg",
        "config": {"model": "tfidf", "c": 20.0},
        "data_manifest_sha256": data.read_manifest(data_dir).get("manifest_sha256"),
    }
    model = TfidfClassifier(Path(model_dir) / version, meta, pipeline)
    val_logits = model.logits(val_texts)
    index = {name: i for i, name in enumerate(labels)}
    val_idx = np.array([index[label] for label in val_y])
    temperature = fit_temperature(val_logits, val_idx)
    model.metadata["temperature"] = temperature
    report = evaluate(labels, val_y, model.predict_proba(val_texts))
    meta.update(
        temperature=temperature,
        threshold=report.threshold,
        threshold_rule=RULE,
        energy_limit=energy_limit(energy(val_logits / temperature, temperature)),
        metrics={"validation": report.headline()},
        training_seconds=round(time.monotonic() - started, 1),
    )
    path = write_artifact(
        Path(model_dir) / version, meta, lambda tmp: joblib.dump(pipeline, tmp / PIPELINE_FILE)
    )
    logger.info(
        "baseline trained",
        extra={
            "model_version": version,
            "val_accuracy": round(report.accuracy, 4),
            "seconds": meta["training_seconds"],
        },
    )
    return path
