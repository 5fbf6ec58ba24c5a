"""`manage.py export_model`: a registered tiny transformer exported, registered, promoted."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from classifier import artifact
from classifier.tests.tiny_models import write_tiny_version
from mlops import registry
from mlops.models import ModelVersion
from mlops.tests.tiny_transformer import SHARED, build_tiny_base, write_small_banking77

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not SHARED.is_dir(), reason="no local BANKING77 folder"),
]


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    return write_small_banking77(tmp_path_factory.mktemp("data") / "banking77")


@pytest.fixture(scope="module")
def tiny_version(small_data, tmp_path_factory) -> Path:
    base = build_tiny_base(tmp_path_factory.mktemp("tiny-bert"))
    return write_tiny_version(base, small_data, tmp_path_factory.mktemp("src") / "tiny-1")


@pytest.fixture
def source(tiny_version, settings) -> ModelVersion:
    """The tiny version registered from the test's own model folder."""
    return registry.register(
        shutil.copytree(tiny_version, settings.CLEANINBOX_MODEL_DIR / "tiny-1")
    )


def run(*args, **options) -> str:
    out = StringIO()
    call_command("export_model", *args, stdout=out, stderr=StringIO(), verbosity=0, **options)
    return out.getvalue()


def test_it_registers_the_export_and_promotes_it_when_as_good(source, small_data, settings):
    out = run("tiny-1", "--promote-if-as-good", data_dir=small_data)

    row = registry.get("tiny-1-onnx")
    assert out.startswith("Exported tiny-1-onnx from tiny-1: validation accuracy")
    assert "same top intent as the source for 100.0% of validation" in out
    assert "Promoted tiny-1-onnx" in out
    assert row.kind == "onnx"
    assert Path(row.local_path) == (settings.CLEANINBOX_MODEL_DIR / "tiny-1-onnx").resolve()
    assert row.metadata["exported_from"]["version"] == "tiny-1"
    assert row.validation_metrics["n"] > 0
    assert registry.active().version == "tiny-1-onnx"


def test_it_does_not_promote_an_export_below_the_sources_accuracy(source, small_data):
    # The registry says the source scores 99% on validation; the untrained export cannot.
    path = registry.local_path(source)
    artifact.update_metadata(path, metrics={"validation": {"accuracy": 0.99}})
    registry.register(path)

    out = run("tiny-1", "--quantize", "--promote-if-as-good", data_dir=small_data)

    assert out.startswith("Exported tiny-1-onnx-int8 from tiny-1")
    assert "Not promoted: validation accuracy" in out
    assert "more than 0.2 points below tiny-1's 99.00%" in out
    assert registry.get("tiny-1-onnx-int8").stage == ModelVersion.Stage.CANDIDATE
    assert registry.active() is None


def test_without_the_flag_it_only_registers(source, small_data):
    out = run("tiny-1", data_dir=small_data)

    assert "Promoted" not in out
    assert registry.get("tiny-1-onnx").stage == ModelVersion.Stage.CANDIDATE


def test_it_explains_what_cannot_be_exported(source, small_data):
    with pytest.raises(CommandError, match="not exported: no model version 'nope'"):
        run("nope", data_dir=small_data)

    run("tiny-1", data_dir=small_data)
    with pytest.raises(CommandError, match="not exported: model version folder already exists"):
        run("tiny-1", data_dir=small_data)
