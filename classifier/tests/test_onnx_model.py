"""classifier.onnx_model and mlops.export: a tiny BERT exported for real and served by
onnxruntime, compared with the torch model it came from."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from classifier import artifact
from classifier.artifact import UnusableModel
from classifier.onnx_model import ONNX_FILE, OnnxClassifier
from classifier.tests.tiny_models import TEMPERATURE, THRESHOLD, write_tiny_version
from mlops import data
from mlops.export import ExportError, as_good_as_source, export_onnx
from mlops.tests.artifacts import corrupt
from mlops.tests.tiny_transformer import SHARED, build_tiny_base, write_small_banking77

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="no local BANKING77 folder")

REPO = Path(__file__).resolve().parents[2]
TEXTS = [
    "Where is my card?",
    "hi",
    "I was charged the wrong exchange rate when I paid in euros on holiday last week, why?",
    "",
    "please help " * 80,  # longer than max_length: truncated the same way by both
    "Ünïcödé café: £50 → €58?",
]


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    return write_small_banking77(tmp_path_factory.mktemp("data") / "banking77")


@pytest.fixture(scope="module")
def source(small_data, tmp_path_factory) -> Path:
    base = build_tiny_base(tmp_path_factory.mktemp("tiny-bert"))
    return write_tiny_version(base, small_data, tmp_path_factory.mktemp("src") / "tiny-1")


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def exported(source, small_data, models_dir) -> Path:
    return export_onnx(source, models_dir, quantize=False, data_dir=small_data)


@pytest.fixture(scope="module")
def exported_int8(source, small_data, models_dir) -> Path:
    return export_onnx(source, models_dir, quantize=True, data_dir=small_data)


@pytest.fixture
def copy_of_export(exported, tmp_path) -> Path:
    return Path(shutil.copytree(exported, tmp_path / "copy"))


def test_the_export_gives_the_torch_models_logits(source, exported):
    torch_model, onnx_model = artifact.load(source), artifact.load(exported)

    batched = onnx_model.logits(TEXTS)
    one_by_one = np.vstack([onnx_model.logits([text]) for text in TEXTS])

    assert isinstance(onnx_model, OnnxClassifier)
    np.testing.assert_allclose(batched, torch_model.logits(TEXTS), atol=1e-4)
    np.testing.assert_allclose(one_by_one, batched, atol=1e-4)
    assert onnx_model.logits([]).shape == (0, 77)


def test_it_keeps_labels_and_calibration_and_records_where_it_came_from(
    source, exported, small_data
):
    model = artifact.load(exported, expected_labels=data.load_labels(small_data))
    meta = model.metadata

    probs = model.predict_proba(TEXTS)

    assert model.version == "tiny-1-onnx"
    assert model.kind == "onnx"
    assert model.labels == artifact.read_metadata(source)["labels"]
    assert (model.temperature, model.threshold) == (TEMPERATURE, THRESHOLD)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(
        probs, artifact.softmax(model.logits(TEXTS) / TEMPERATURE), atol=1e-6
    )
    assert [p.label for p in model.predict(TEXTS)] == [model.labels[i] for i in probs.argmax(1)]
    assert meta["exported_from"]["version"] == "tiny-1"
    assert meta["onnx"]["quantization"] is None
    assert meta["onnx"]["fidelity"]["fp32_max_abs_logit_diff"] <= 1e-4
    # Validation re-measured on the export: an fp32 export scores what its source scores.
    n_val = len(data.load_split(small_data, "validation")[0])
    assert meta["metrics"]["validation"]["n"] == n_val
    assert meta["metrics"]["validation"]["accuracy"] == meta["exported_from"]["validation_accuracy"]
    assert meta["onnx"]["fidelity"]["validation_argmax_agreement"] == 1.0


def test_the_int8_export_is_smaller_and_still_a_calibrated_model(exported, exported_int8):
    model = artifact.load(exported_int8)

    probs = model.predict_proba(TEXTS)

    assert model.version == "tiny-1-onnx-int8"
    assert model.metadata["onnx"]["quantization"].startswith("dynamic-int8")
    assert (exported_int8 / ONNX_FILE).stat().st_size < (exported / ONNX_FILE).stat().st_size / 2
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    # Quantised, not replaced: its scores stay close to the fp32 graph's.
    np.testing.assert_allclose(model.logits(TEXTS), artifact.load(exported).logits(TEXTS), atol=0.1)


def test_serving_an_export_does_not_import_torch(exported):
    code = (
        "import sys; from classifier import artifact; "
        f"model = artifact.load({str(exported)!r}); model.predict(['where is my card?']); "
        "print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
    )  # fmt: skip

    assert out.stdout.strip() == "[]"


def test_a_corrupt_graph_is_unusable(copy_of_export):
    corrupt(copy_of_export)  # the largest file: model.onnx

    with pytest.raises(UnusableModel, match=r"checksum mismatch for model\.onnx"):
        artifact.load(copy_of_export)


def test_a_graph_that_is_not_onnx_is_unusable_even_unverified(copy_of_export):
    (copy_of_export / ONNX_FILE).write_bytes(b"not a graph")

    with pytest.raises(UnusableModel, match="cannot read the ONNX graph"):
        artifact.load(copy_of_export, verify=False)


def test_a_graph_with_another_label_count_is_unusable(copy_of_export):
    meta_path = copy_of_export / artifact.METADATA_FILE
    meta = json.loads(meta_path.read_text())
    meta["labels"] = meta["labels"][:70]
    meta_path.write_text(json.dumps(meta))

    with pytest.raises(UnusableModel, match="outputs 77 scores for 70 labels"):
        artifact.load(copy_of_export)


def test_it_refuses_to_export_twice_or_against_other_data(source, exported, small_data, tmp_path):
    with pytest.raises(FileExistsError):
        export_onnx(source, exported.parent, data_dir=small_data)

    other = Path(shutil.copytree(source, tmp_path / "tiny-2"))
    artifact.update_metadata(other, data_manifest_sha256="0" * 64)
    with pytest.raises(ExportError, match="trained on other data"):
        export_onnx(other, tmp_path / "models", data_dir=small_data)


@pytest.mark.parametrize(
    ("accuracy", "measured", "recorded", "as_good"),
    [
        (0.930, 0.932, None, True),  # exactly 0.2 points below
        (0.9299, 0.932, None, False),
        (0.940, 0.932, None, True),
        (0.931, 0.932, 0.940, False),  # the registry's higher number counts
        (None, 0.932, None, False),
    ],
)
def test_as_good_as_source_allows_two_tenths_of_a_point(accuracy, measured, recorded, as_good):
    meta = {
        "metrics": {"validation": {"accuracy": accuracy}},
        "exported_from": {"validation_accuracy": measured},
    }

    assert as_good_as_source(meta, recorded) is as_good
