"""`manage.py serve_fastest` (make model's last step): the ONNX export serves when as good,
int8 only within 0.2 points and the routing error target; a worker serving it has no torch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from classifier.tests.tiny_models import write_tiny_version
from conftest import REPO
from mlops import registry, serving
from mlops.tests.tiny_transformer import SHARED, build_tiny_base, write_small_banking77


def meta(accuracy: float, error: float | None = None, source: float | None = None) -> dict:
    validation = {"accuracy": accuracy, "at_threshold_error": error, "target_error": 0.02}
    return {"metrics": {"validation": validation}, "exported_from": {"validation_accuracy": source}}


def test_int8_serves_within_a_fifth_of_a_point_and_the_error_target():
    assert serving.choose({}, meta(0.946, 0.018, 0.946), meta(0.9445, 0.019, 0.946))[0] == "int8"


def test_fp32_serves_when_int8_loses_more_than_a_fifth_of_a_point():
    picked, reason = serving.choose({}, meta(0.946, 0.018, 0.946), meta(0.943, 0.017, 0.946))
    assert picked == "fp32"
    assert "int8 is more than 0.2 points below the source" in reason


def test_fp32_serves_when_int8_routes_with_too_many_errors():
    picked, reason = serving.choose({}, meta(0.946, 0.018, 0.946), meta(0.945, 0.025, 0.946))
    assert picked == "fp32"
    assert "over the 2.00% target" in reason


def test_nothing_changes_when_no_export_is_as_good():
    picked, _ = serving.choose({}, meta(0.90, 0.01, 0.946), meta(0.90, 0.01, 0.946))
    assert picked is None


needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason="no local BANKING77 folder")


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    return write_small_banking77(tmp_path_factory.mktemp("data") / "banking77")


@pytest.fixture(scope="module")
def tiny_version(small_data, tmp_path_factory) -> Path:
    base = build_tiny_base(tmp_path_factory.mktemp("tiny-bert"))
    return write_tiny_version(base, small_data, tmp_path_factory.mktemp("src") / "tiny-1")


@needs_data
@pytest.mark.django_db
def test_make_models_last_step_exports_both_and_an_export_serves(
    tiny_version, small_data, settings
):
    source = registry.register(
        shutil.copytree(tiny_version, settings.CLEANINBOX_MODEL_DIR / "tiny-1")
    )
    registry.promote(source.version)
    settings.CLEANINBOX_DATA_DIR = small_data
    out = StringIO()

    call_command("serve_fastest", stdout=out)

    active = registry.active()
    assert active.version in ("tiny-1-onnx", "tiny-1-onnx-int8")
    assert out.getvalue().startswith(f"{active.version} serves: ")
    assert registry.get("tiny-1-onnx").kind == registry.get("tiny-1-onnx-int8").kind == "onnx"
    # Running it again reuses the exports and changes nothing.
    call_command("serve_fastest", "tiny-1", stdout=StringIO())
    assert registry.active().version == active.version

    # A worker process serving the export never imports torch.
    code = (
        "import sys, django; django.setup()\n"
        "from cleaninbox.celery import app; app.loader.import_default_modules()\n"
        "from classifier import artifact, services\n"
        f"m = artifact.load({str(registry.local_path(active))!r})\n"
        "assert m.predict(['where is my new card?'], k=3)\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=os.environ.copy(),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
