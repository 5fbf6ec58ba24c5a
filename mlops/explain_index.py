"""Build a model version's training-set index for "why this intent" (its neighbours).

Each training query (the ``train`` split the version learnt from) is scored once by the
version itself and kept as a unit vector in its score space, with its text and label
(``classifier.explain.NeighbourIndex``): 9,000 × 77 floats, about 3 MB. Seconds for the
TF-IDF baseline, about half a minute for MiniLM int8 on one core; run once per version by
the ``build_explanation_index`` task (queued the first time an explanation needs it) or
command.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

from classifier import artifact, explain, explanations
from inbox import intents
from mlops import data, registry

logger = logging.getLogger(__name__)


class IndexUnavailable(Exception):
    """The index cannot be built for this version (its data is not here)."""


def build_index(version: str | None = None, data_dir: Path | None = None) -> Path:
    """Write the index of ``version`` (default: the one in production); returns its path."""
    row = registry.get(version) if version else registry.active()
    if row is None:
        raise IndexUnavailable("no model in production and no version given")
    data_dir = Path(data_dir or settings.CLEANINBOX_DATA_DIR)
    manifest = data.read_manifest(data_dir)
    trained_on = (row.metadata or {}).get("data_manifest_sha256")
    if trained_on not in (None, manifest.get("manifest_sha256")):
        # Neighbours from other data would not be the examples the model learnt from.
        raise IndexUnavailable(f"{row.version} was trained on other data than {data_dir} holds")
    model = artifact.load(registry.local_path(row), expected_labels=intents.LABELS)
    texts, labels = data.load_split(data_dir, "train")
    index = explain.NeighbourIndex.build(model, texts, labels)
    return index.save(explanations.index_path(row.version), row.version)
