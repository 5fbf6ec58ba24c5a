"""Export a fine-tuned transformer version to ONNX (optionally int8) as a new version.

The exported version serves the same labels with the same temperature and threshold;
only the runtime differs (``classifier.onnx_model``: onnxruntime, no torch). Before it
is written, the exporter checks it against the torch model it came from:

- the fp32 graph must give the torch logits within ``FP32_TOLERANCE`` on the whole
  validation split plus a few edge cases (empty text, a text longer than max_length),
  run in padded batches of several shapes: the graph has dynamic batch and length axes,
  and a trace that froze a shape or dropped the padding mask would fail here;
- the validation metrics are measured again on the exported model, and the torch
  model's own accuracy on the same texts is recorded beside them, so an int8 version
  that got worse says so in its metadata.

``optimum`` does not support transformers 5, hence ``torch.onnx.export`` (the
TorchScript exporter: the dynamo one needs ``onnxscript``, which buys nothing here).
No Django here: the ``export_model`` command registers and promotes.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic

from classifier import artifact
from classifier.onnx_model import ONNX_FILE, TOKENIZER_FILE, OnnxClassifier
from classifier.transformer import PooledClassifier, TransformerClassifier, pad_batch, tokenize
from mlops import data
from mlops.evaluation import evaluate

OPSET = 17
# fp32 onnxruntime vs torch: the kernels differ in summation order, nothing more.
FP32_TOLERANCE = 1e-4
# Promote an export only if its validation accuracy is at most this far below the source's.
PROMOTE_TOLERANCE = 0.002
QUANTIZATION = "dynamic-int8-per-channel-reduce-range"
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1] / "var" / "data" / "banking77"
# Besides validation: an empty text, one far over max_length, and a short one in a batch
# with them (so it is padded a lot).
EDGE_TEXTS = (
    "",
    "hi",
    "my card payment was declined at the shop and then charged twice, " * 12,
    "Ünïcödé café: £50 → €58?",
)
# A traced export keeps only the code path its sample inputs take; transformers skips the
# attention mask when a batch has no padding, so the sample batch must be padded.
_SAMPLE_TEXTS = (
    "Where is my card?",
    "I was charged twice for one payment in a shop yesterday, why?",
)
_AXES = {
    "input_ids": {0: "batch", 1: "sequence"},
    "attention_mask": {0: "batch", 1: "sequence"},
    "logits": {0: "batch"},
}


class ExportError(Exception):
    """The version cannot be exported, or the export does not match its source."""


def export_onnx(
    src_version_dir: Path,
    dest_dir: Path,
    quantize: bool = False,
    *,
    data_dir: Path | None = None,
) -> Path:
    """Write ``<src>-onnx`` (or ``<src>-onnx-int8`` with ``quantize``) under ``dest_dir``
    from the transformer version in ``src_version_dir``; returns the new version's folder.

    ``data_dir`` (default var/data/banking77) must hold the data the source was trained
    on: its validation split is where the export is checked and measured.
    """
    source = artifact.load(src_version_dir)
    if not isinstance(source, TransformerClassifier):
        raise ExportError(f"{source.version} is a {source.kind} model; only transformers export")
    version = f"{source.version}-onnx" + ("-int8" if quantize else "")
    dest = Path(dest_dir) / version
    if dest.exists():
        raise FileExistsError(f"model version folder already exists: {dest}")
    val_texts, val_y = _validation_split(source, Path(data_dir or DEFAULT_DATA_DIR))

    texts = [*val_texts, *EDGE_TEXTS]
    torch_logits = source.logits(texts)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".export-{version}-", dir=dest.parent))
    try:
        model_dir = fp32_dir = work / "fp32"
        export_graph(source.model, source.tokenizer, fp32_dir / ONNX_FILE)
        _copy_tokenizer(Path(src_version_dir), fp32_dir)
        meta = _metadata(source, version, quantize)
        fp32 = OnnxClassifier.open(fp32_dir, meta)
        # Batched (every batch shape the validation split makes) and one text at a time
        # (no padding at all).
        singles = np.concatenate([fp32.logits([text]) for text in EDGE_TEXTS])
        fp32_diff = max(
            _max_abs_diff(fp32.logits(texts), torch_logits),
            _max_abs_diff(singles, torch_logits[-len(EDGE_TEXTS) :]),
        )
        if not fp32_diff <= FP32_TOLERANCE:
            raise ExportError(
                f"the ONNX graph's logits differ from torch's by {fp32_diff:.2e} "
                f"(tolerance {FP32_TOLERANCE:.0e}); not exported"
            )
        if quantize:
            model_dir = work / "int8"
            quantize_graph(fp32_dir / ONNX_FILE, model_dir / ONNX_FILE)
            _copy_tokenizer(fp32_dir, model_dir)
        # Validation alone, as evaluate_model feeds it: int8 activations are quantised per
        # batch, so an int8 model's scores depend a little on which texts share a batch.
        n_val = len(val_texts)
        exported = OnnxClassifier.open(model_dir, meta).logits(val_texts)
        meta["metrics"] = {"validation": _measure(source, val_y, exported)}
        meta["exported_from"]["validation_accuracy"] = _accuracy(
            source.labels, val_y, torch_logits[:n_val]
        )
        meta["onnx"]["fidelity"] = {
            "fp32_max_abs_logit_diff": fp32_diff,
            "fp32_checked_texts": len(texts),
            "validation_max_abs_logit_diff": _max_abs_diff(exported, torch_logits[:n_val]),
            "validation_argmax_agreement": float(
                (exported.argmax(axis=1) == torch_logits[:n_val].argmax(axis=1)).mean()
            ),
        }
        return artifact.write_artifact(dest, meta, lambda tmp: _move_files(model_dir, tmp))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def as_good_as_source(
    metadata: dict[str, Any],
    source_accuracy: float | None = None,
    tolerance: float = PROMOTE_TOLERANCE,
) -> bool:
    """True when an exported version's validation accuracy is at most ``tolerance`` below
    its source's: the higher of ``source_accuracy`` (e.g. the registry's) and the torch
    model's accuracy measured on the same texts during the export."""
    accuracy = ((metadata.get("metrics") or {}).get("validation") or {}).get("accuracy")
    measured = (metadata.get("exported_from") or {}).get("validation_accuracy")
    references = [a for a in (source_accuracy, measured) if a is not None]
    if accuracy is None or not references:
        return False
    # The epsilon keeps "exactly 0.2 points below" on the promoted side despite rounding.
    return accuracy >= max(references) - tolerance - 1e-12


def export_graph(model: PooledClassifier, tokenizer: Any, dest: Path, opset: int = OPSET) -> Path:
    """Trace ``model`` (input ids, attention mask -> logits) into an ONNX file at ``dest``
    with dynamic batch and sequence axes; returns ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    input_ids, mask = pad_batch(tokenize(tokenizer, _SAMPLE_TEXTS, 64), tokenizer.pad_token_id)
    assert not bool(mask.all()), "the sample batch must contain padding"
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated (the dynamo one needs onnxscript), and the
        # tracer warns about transformers' shape checks, which hold for every input
        # (the fidelity check in export_onnx runs other shapes to make sure).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (input_ids, mask),
            str(dest),
            dynamo=False,
            opset_version=opset,
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes=_AXES,
            do_constant_folding=True,
        )
    onnx.checker.check_model(str(dest))
    return dest


def quantize_graph(src: Path, dest: Path) -> Path:
    """Dynamic int8 quantisation of ``src``'s weights (activations quantised at run time,
    per batch). Per-channel weight scales; 7-bit weights (``reduce_range``) because CPUs
    without AVX512-VNNI saturate int16 sums of full-range uint8 x int8 products, and on
    BANKING77 validation it cost nothing measurable on a VNNI machine."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(src, dest, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)
    return dest


def _validation_split(source: artifact.Classifier, data_dir: Path) -> tuple[list[str], list[str]]:
    manifest = data.verify(data_dir)
    trained_on = source.metadata.get("data_manifest_sha256")
    if trained_on not in (None, manifest["manifest_sha256"]):
        # Another carve of validation may overlap the source's training data.
        raise ExportError(
            f"{source.version} was trained on other data than {data_dir} holds; "
            "its validation split cannot check the export"
        )
    if data.load_labels(data_dir) != source.labels:
        raise ExportError(f"{data_dir} lists other intents than {source.version}")
    return data.load_split(data_dir, "validation")


def _metadata(source: TransformerClassifier, version: str, quantize: bool) -> dict[str, Any]:
    """The new version's metadata: the source's labels, calibration and provenance."""
    meta = source.metadata
    keep = ("labels", "temperature", "threshold", "threshold_rule", "energy_limit", "config",
            "base_model", "transformer", "data_manifest_sha256", "training_examples",
            "distillation", "soup")  # fmt: skip
    return {
        **{key: meta[key] for key in keep if key in meta},
        "version": version,
        "kind": OnnxClassifier.kind,
        "exported_from": {"version": source.version, "git_commit": meta.get("git_commit")},
        "onnx": {
            "opset": OPSET,
            "quantization": QUANTIZATION if quantize else None,
            "pad_token_id": int(source.tokenizer.pad_token_id),
            "libraries": {name: _version_of(name) for name in ("onnx", "onnxruntime")},
        },
    }


def _measure(
    source: TransformerClassifier, val_y: Sequence[str], logits: np.ndarray
) -> dict[str, Any]:
    """Validation headline of the exported logits, at the source's serving threshold."""
    target = ((source.metadata.get("metrics") or {}).get("validation") or {}).get("target_error")
    probs = artifact.softmax(logits.astype(np.float64) / source.temperature)
    report = evaluate(
        source.labels, val_y, probs, target_error=target or 0.02, threshold=source.threshold
    )
    return report.headline()


def _accuracy(labels: Sequence[str], y: Sequence[str], logits: np.ndarray) -> float:
    index = {name: i for i, name in enumerate(labels)}
    return float((logits.argmax(axis=1) == np.array([index[name] for name in y])).mean())


def _max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())


def _copy_tokenizer(src_dir: Path, dest_dir: Path) -> None:
    # The file the source's fast tokenizer was loaded from, byte for byte.
    if not (src_dir / TOKENIZER_FILE).is_file():
        raise ExportError(f"{src_dir} has no {TOKENIZER_FILE} (a fast tokenizer is needed)")
    shutil.copy2(src_dir / TOKENIZER_FILE, dest_dir / TOKENIZER_FILE)


def _move_files(src: Path, dest: Path) -> None:
    for path in src.iterdir():
        shutil.move(path, dest / path.name)


def _version_of(name: str) -> str | None:
    try:
        return importlib_metadata.version(name)
    except importlib_metadata.PackageNotFoundError:
        return None
