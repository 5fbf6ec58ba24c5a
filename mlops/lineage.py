"""Where a model version comes from: data, corrections, config, code, parent, gates.

Training writes the data manifest hash, the config and the git commit into a version's
metadata already; the loop adds one ``lineage`` block (``attach``) with what it alone
knows: which corrections went in (ids, so each can be looked up), what was dropped and why,
the version serving when it was trained (the parent) and the retraining run. An ONNX export
carries its source's block plus ``exported_from``. Gate results live with the candidate's
loop state (mlops.models.CandidateState) and are joined in by ``describe``.

Every prediction names its version (``Email.model_version``, ``ShadowPrediction``), so an
email's label is traceable down to the corrections its model learned from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from classifier import artifact
from mlops.models import ModelVersion

KEY = "lineage"
# Enough ids to trace a cycle's corrections; beyond it the hash still pins them all.
MAX_IDS = 5000


def build(
    *,
    data_manifest_sha256: str | None,
    correction_ids: Sequence[int],
    email_ids: Sequence[int],
    dropped: dict[str, int],
    parent: str | None,
    config: dict[str, Any],
    retrain_run: int | None,
    trigger: str,
) -> dict[str, Any]:
    """The lineage block of a version trained by the loop (JSON-ready)."""
    ids = sorted(int(i) for i in correction_ids)
    return {
        "data_manifest_sha256": data_manifest_sha256,
        "corrections": {
            "count": len(ids),
            "ids": ids[:MAX_IDS],
            "email_ids": sorted(int(i) for i in email_ids)[:MAX_IDS],
            "sha256": hashlib.sha256(json.dumps(ids).encode()).hexdigest(),
            "dropped": dropped,
        },
        "parent_version": parent,
        "config": config,
        "git_commit": artifact.git_commit(),
        "retrain_run": retrain_run,
        "trigger": trigger,
    }


def attach(path: Path, lineage: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Write the block into the version's metadata.json (one call, no other change)."""
    return artifact.update_metadata(path, **{KEY: {**lineage, **extra}})


def of(row: ModelVersion) -> dict[str, Any]:
    """A version's lineage: the loop's block, else what training recorded by itself."""
    meta = row.metadata or {}
    block = dict(meta.get(KEY) or {})
    block.setdefault("data_manifest_sha256", meta.get("data_manifest_sha256"))
    block.setdefault("git_commit", meta.get("git_commit"))
    block.setdefault("config", meta.get("config"))
    if meta.get("exported_from"):
        block["exported_from"] = meta["exported_from"].get("version")
    if meta.get("soup"):
        block["averaged_from"] = meta["soup"].get("kept") or []
    if meta.get("distillation"):
        block["distilled_from"] = meta["distillation"].get("teacher", {}).get("members") or []
    if meta.get("refit"):
        block["refit_of"] = [meta["refit"].get("of")]
    extra = meta.get("extra_examples") or {}
    if "corrections" not in block and extra:
        block["corrections"] = {"count": extra.get("used", 0), "ids": [], "dropped": extra}
    return block


_MADE_FROM = (
    ("averaged_from", "soup of"),
    ("distilled_from", "teacher"),
    ("refit_of", "refit (train + validation) of"),
)


def describe(row: ModelVersion) -> list[tuple[str, str]]:
    """(label, value) lines for the admin, ``list_models --lineage`` and the Models page."""
    block = of(row)
    corrections = block.get("corrections") or {}
    ids = corrections.get("ids") or []
    shown = ", ".join(str(i) for i in ids[:20]) + (" …" if len(ids) > 20 else "")
    config = block.get("config") or {}
    lines = [
        ("parent version", block.get("parent_version") or "—"),
        ("exported from", block.get("exported_from") or "—"),
        *[(label, ", ".join(block[key])) for key, label in _MADE_FROM if block.get(key)],
        ("data manifest", (block.get("data_manifest_sha256") or "—")[:16]),
        ("corrections", f"{corrections.get('count', 0)} ({shown or 'none'})"),
        ("dropped", _dropped(corrections.get("dropped") or {})),
        ("config", f"{config.get('name', '?')} {config.get('base_model', '')}".strip()),
        ("git commit", (block.get("git_commit") or "—")[:12]),
        ("retrain run", str(block.get("retrain_run") or "—")),
    ]
    # A missing reverse one-to-one raises an AttributeError subclass: getattr's default.
    state = getattr(row, "loop_state", None)
    if state is not None:
        verdict = state.get_verdict_display()
        lines.append(("gates", f"{verdict}: {state.reason}" if state.reason else verdict))
    return lines


def _dropped(dropped: dict[str, int]) -> str:
    parts = [f"{n} {key.replace('dropped_', '').replace('_', ' ')}" for key, n in dropped.items()
             if key.startswith("dropped") and n]  # fmt: skip
    return ", ".join(parts) or "none"
