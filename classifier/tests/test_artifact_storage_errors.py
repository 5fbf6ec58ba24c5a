"""A full disk or a read-only model folder gives a clear error and leaves nothing half
written (issue 9). Real faults: a tiny tmpfs that fills up, then the same mounted read-only
(mounting needs root, as in CI; elsewhere the test is skipped)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from classifier.artifact import ArtifactWriteError, write_artifact

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
META = {"version": "v-full", "kind": "baseline", "labels": ["a", "b"]}


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _write_big(folder: Path) -> None:
    (folder / "weights.bin").write_bytes(b"\0" * 1024 * 1024)


def test_a_full_disk_is_a_clear_error_and_leaves_no_partial_version(small_disk):
    with pytest.raises(ArtifactWriteError) as raised:
        write_artifact(small_disk / "models" / "v-full", META, _write_big)
    message = str(raised.value)
    assert "cannot write the model version under" in message
    assert "No space left on device" in message
    assert list((small_disk / "models").iterdir()) == []


def test_a_read_only_model_folder_is_a_clear_error(small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(ArtifactWriteError, match="Read-only file system"):
        write_artifact(small_disk / "models" / "v-ro", META, lambda folder: None)


def test_commands_and_the_admin_report_it_as_an_expected_error():
    # train_baseline, train_model, export_model and the admin's actions turn these into a
    # CommandError or an admin message instead of a traceback.
    from mlops import lifecycle

    assert ArtifactWriteError in lifecycle.EXPECTED_ERRORS
