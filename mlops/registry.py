"""The model registry: which versions exist, where they live, which one serves.

Versions are folders under CLEANINBOX_MODEL_DIR (see classifier.artifact) recorded as
ModelVersion rows. Promotion is a database change; running workers notice it on their
next batch and load the new version without a restart.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from classifier import artifact
from mlops.data import BANKING77_LABELS
from mlops.models import ModelVersion

logger = logging.getLogger(__name__)


class RegistryError(Exception):
    pass


def version_dir(version: str) -> Path:
    return Path(settings.CLEANINBOX_MODEL_DIR) / version


def register(path: Path) -> ModelVersion:
    """Record (or refresh) the version stored at ``path`` from its metadata."""
    meta = artifact.read_metadata(path)
    metrics = meta.get("metrics") or {}
    row, _ = ModelVersion.objects.update_or_create(
        version=meta["version"],
        defaults={
            "kind": meta["kind"],
            "base_model": str(meta.get("base_model") or ""),
            "local_path": str(Path(path).resolve()),
            "metadata": {k: v for k, v in meta.items() if k != "files"},
            "validation_metrics": metrics.get("validation") or {},
            "test_metrics": metrics.get("test") or {},
            "threshold": meta.get("threshold"),
        },
    )
    return row


def get(version: str) -> ModelVersion:
    try:
        return ModelVersion.objects.get(version=version)
    except ModelVersion.DoesNotExist:
        raise RegistryError(f"no model version {version!r} in the registry") from None


def active() -> ModelVersion | None:
    return ModelVersion.objects.filter(stage=ModelVersion.Stage.PRODUCTION).first()


def local_path(row: ModelVersion) -> Path:
    return Path(row.local_path) if row.local_path else version_dir(row.version)


def folder_of(name: str | Path) -> Path:
    """A version's folder: ``name`` itself when it is a folder (a version trained outside
    the registry, e.g. by a benchmark), else the registered version's folder."""
    path = Path(name)
    if path.is_dir():
        return path
    return local_path(get(str(name)))


def promote(version: str) -> ModelVersion:
    """Make ``version`` the one that serves; the previous one is archived.

    Refuses a version whose artifact does not load with the 77 intents in their published
    order, so a broken model never serves.
    """
    row = get(version)
    artifact.load(local_path(row), expected_labels=BANKING77_LABELS)  # raises UnusableModel
    with transaction.atomic():
        ModelVersion.objects.select_for_update().filter(
            stage=ModelVersion.Stage.PRODUCTION
        ).exclude(pk=row.pk).update(stage=ModelVersion.Stage.ARCHIVED)
        row.stage = ModelVersion.Stage.PRODUCTION
        row.promoted_at = timezone.now()
        row.save(update_fields=["stage", "promoted_at"])
    logger.info("model promoted", extra={"model_version": version})
    return row


def rollback() -> ModelVersion:
    """Promote the most recently archived version that was once in production."""
    current = active()
    previous = (
        ModelVersion.objects.filter(stage=ModelVersion.Stage.ARCHIVED, promoted_at__isnull=False)
        .exclude(pk=getattr(current, "pk", None))
        .order_by("-promoted_at")
        .first()
    )
    if previous is None:
        raise RegistryError("no earlier production version to roll back to")
    return promote(previous.version)
