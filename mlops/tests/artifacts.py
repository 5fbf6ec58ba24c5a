"""Test helpers for model versions on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

from classifier import artifact


def copy_version(source: Path, model_dir: Path, version: str) -> Path:
    """A copy of a real artifact saved as another version (only metadata.json differs).

    ``version`` is not covered by the file checksums, so the copy is a valid artifact.
    """
    dest = Path(model_dir) / version
    shutil.copytree(source, dest)
    artifact.update_metadata(dest, version=version)
    return dest


def corrupt(path: Path) -> Path:
    """Flip bytes in the artifact's largest model file, as a bad disk or upload would."""
    target = max(
        (p for p in Path(path).rglob("*") if p.is_file() and p.name != artifact.METADATA_FILE),
        key=lambda p: p.stat().st_size,
    )
    data = bytearray(target.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    target.write_bytes(bytes(data))
    return target
