"""Fetch BANKING77, check it against the published schema and write the splits we train on.

``prepare`` reads the dataset from the Hugging Face Hub (``source=None``), a local folder or
an http(s) URL prefix holding ``train.csv``/``test.csv`` (columns ``text,category``) and,
optionally, ``categories.json``. It validates the data loudly, carves a stratified, seeded
validation split out of train (the test split is kept for final evaluation only) and writes
into ``data_dir``::

    train.csv, validation.csv, test.csv   columns text,label
    labels.json                           the 77 intent names in published order
    manifest.json                         source, seed, rows, sha256 of every file

The folder is written under a temporary name and swapped in, so readers never see half a
dataset. ``manifest_sha256`` covers the data files only, so preparing the same data twice
yields the same hash (and the same bytes: an unchanged dataset keeps its ``created_at``).

No Django here: the ``download_data`` command and notebooks call the same functions.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import logging
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split
from tqdm import tqdm

logger = logging.getLogger(__name__)

HUB_DATASET = "PolyAI/banking77"
SPLITS = ("train", "validation", "test")
LABELS_FILE = "labels.json"
MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1
_DOWNLOAD_HINT = "run `python manage.py download_data` first"

# The 77 intents exactly as published in PolyAI's categories.json, in that order. Note the
# capital R in "Refund_not_showing_up" and the question mark in "reverted_card_payment?":
# both are part of the published names, so they stay.
BANKING77_LABELS: list[str] = [
    "card_arrival", "card_linking", "exchange_rate", "card_payment_wrong_exchange_rate",
    "extra_charge_on_statement", "pending_cash_withdrawal", "fiat_currency_support",
    "card_delivery_estimate", "automatic_top_up", "card_not_working", "exchange_via_app",
    "lost_or_stolen_card", "age_limit", "pin_blocked", "contactless_not_working",
    "top_up_by_bank_transfer_charge", "pending_top_up", "cancel_transfer", "top_up_limits",
    "wrong_amount_of_cash_received", "card_payment_fee_charged",
    "transfer_not_received_by_recipient", "supported_cards_and_currencies",
    "getting_virtual_card", "card_acceptance", "top_up_reverted",
    "balance_not_updated_after_cheque_or_cash_deposit", "card_payment_not_recognised",
    "edit_personal_details", "why_verify_identity", "unable_to_verify_identity",
    "get_physical_card", "visa_or_mastercard", "topping_up_by_card", "disposable_card_limits",
    "compromised_card", "atm_support", "direct_debit_payment_not_recognised",
    "passcode_forgotten", "declined_cash_withdrawal", "pending_card_payment",
    "lost_or_stolen_phone", "request_refund", "declined_transfer", "Refund_not_showing_up",
    "declined_card_payment", "pending_transfer", "terminate_account", "card_swallowed",
    "transaction_charged_twice", "verify_source_of_funds", "transfer_timing",
    "reverted_card_payment?", "change_pin", "beneficiary_not_allowed", "transfer_fee_charged",
    "receiving_money", "failed_transfer", "transfer_into_account", "verify_top_up",
    "getting_spare_card", "top_up_by_cash_or_cheque", "order_physical_card",
    "virtual_card_not_working", "wrong_exchange_rate_for_cash_withdrawal",
    "get_disposable_virtual_card", "top_up_failed", "balance_not_updated_after_bank_transfer",
    "cash_withdrawal_not_recognised", "exchange_charge", "top_up_by_card_charge",
    "activate_my_card", "cash_withdrawal_charge", "card_about_to_expire",
    "apple_pay_or_google_pay", "verify_my_identity", "country_support",
]  # fmt: skip


class DataError(Exception):
    """The data is missing, unreachable or does not match the published BANKING77 schema."""


class DataMissing(DataError):
    """The prepared data folder (or one of its files) does not exist yet."""


@dataclass(frozen=True)
class RawData:
    """The published train and test splits as frames with columns ``text,label``."""

    train: pd.DataFrame
    test: pd.DataFrame
    source: str
    # sha256 of what we read, so a manifest says exactly which bytes the splits came from.
    source_sha256: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DataSummary:
    """What ``prepare`` wrote; ``str()`` gives the lines the command prints."""

    data_dir: Path
    source: str
    rows: dict[str, int]
    n_labels: int
    manifest_sha256: str
    unchanged: bool

    def __str__(self) -> str:
        rows = " · ".join(f"{split} {self.rows[split]:,}" for split in SPLITS)
        state = "unchanged" if self.unchanged else "written"
        return (
            f"BANKING77 {state} in {self.data_dir} (source: {self.source})\n"
            f"  rows: {rows} · {self.n_labels} intents\n"
            f"  data sha256: {self.manifest_sha256}"
        )


# --- public API -------------------------------------------------------------------------


def prepare(
    source: str | None,
    data_dir: Path,
    val_fraction: float = 0.1,
    seed: int = 42,
    progress: bool = True,
) -> DataSummary:
    """Fetch, validate, split and write BANKING77 into ``data_dir``; safe to run again.

    ``source`` is None for the Hugging Face Hub, else a local folder or an http(s) URL
    prefix holding train.csv and test.csv (and optionally categories.json).
    """
    if not 0 < val_fraction < 1:
        raise DataError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    data_dir = Path(data_dir).expanduser().absolute()
    _refuse_foreign_folder(data_dir, source)
    raw = fetch(source, progress=progress)
    validate(raw)
    train, validation = split_validation(raw.train, val_fraction, seed)
    frames = {"train": train, "validation": validation, "test": raw.test}
    return _write(data_dir, frames, raw, val_fraction=val_fraction, seed=seed)


def fetch(source: str | None, progress: bool = True) -> RawData:
    """Read the published splits from the Hub, a folder or a URL prefix (not validated yet)."""
    if source is None or source.strip() == "":
        return _fetch_hub(progress)
    if source.startswith(("http://", "https://")):
        return _fetch_files(source, _url_reader(source, progress))
    folder = Path(source.removeprefix("file://")).expanduser()
    if not folder.is_dir():
        raise DataError(f"data source {source!r} is not a folder, nor an http(s) URL")
    return _fetch_files(str(folder.absolute()), _folder_reader(folder))


def frames_from_hub(dataset: Mapping[str, Any], source: str = f"hf://{HUB_DATASET}") -> RawData:
    """Convert a Hub ``DatasetDict`` (``text`` + integer ``label`` as ClassLabel) to frames."""
    missing_splits = [split for split in ("train", "test") if split not in dataset]
    if missing_splits:
        raise DataError(
            f"{source} has no {_names(missing_splits)} split (found: {_names(dataset)})"
        )
    frames: dict[str, pd.DataFrame] = {}
    for split in ("train", "test"):
        ds = dataset[split]
        missing = {"text", "label"} - set(ds.column_names)
        if missing:
            raise DataError(
                f"{source} {split} split lacks column(s) {_names(missing)}; "
                f"found {_names(ds.column_names)}"
            )
        names = getattr(ds.features["label"], "names", None)
        if not names:
            raise DataError(f"{source} {split} 'label' is not a ClassLabel with names")
        labels = [names[i] if i is not None and 0 <= i < len(names) else "" for i in ds["label"]]
        texts = ["" if t is None else t for t in ds["text"]]
        frames[split] = pd.DataFrame({"text": texts, "label": labels}, dtype=str)
    # The Hub has no files of ours to hash, so hash the converted content instead.
    digests = {f"{s}.csv": _sha256_bytes(_csv_bytes(f)) for s, f in frames.items()}
    return RawData(frames["train"], frames["test"], source, digests)


def validate(raw: RawData) -> None:
    """Raise ``DataError`` unless the splits match the published BANKING77 schema."""
    for split, frame in (("train", raw.train), ("test", raw.test)):
        _check_no_blanks(split, frame)
    _check_label_names("train", set(raw.train["label"]), require_all=True)
    _check_label_names("test", set(raw.test["label"]), require_all=False)


def split_validation(
    train: pd.DataFrame, val_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carve a stratified, seeded validation split out of train; rows keep their order."""
    try:
        keep, held = train_test_split(
            list(range(len(train))),
            test_size=val_fraction,
            random_state=seed,
            stratify=train["label"],
        )
    except ValueError as exc:  # too few rows per intent for the fraction asked
        raise DataError(f"cannot carve a stratified validation split: {exc}") from exc
    # Original order keeps diffs readable; training shuffles anyway.
    return _rows(train, keep), _rows(train, held)


def _rows(frame: pd.DataFrame, positions: list[int]) -> pd.DataFrame:
    return frame.iloc[sorted(positions)].reset_index(drop=True)


def read_manifest(data_dir: Path) -> dict[str, Any]:
    """The manifest ``prepare`` wrote; ``DataMissing`` if the data is not prepared yet."""
    path = Path(data_dir) / MANIFEST_FILE
    if not path.is_file():
        raise DataMissing(
            f"no BANKING77 data in {data_dir} ({MANIFEST_FILE} missing): {_DOWNLOAD_HINT}"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON ({exc}): {_DOWNLOAD_HINT} again") from exc


def load_split(data_dir: Path, split: str) -> tuple[list[str], list[str]]:
    """Texts and label names of one prepared split (``train``, ``validation`` or ``test``)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    path = Path(data_dir) / f"{split}.csv"
    if not path.is_file():
        raise DataMissing(f"no {split} split in {data_dir} ({path.name} missing): {_DOWNLOAD_HINT}")
    frame = _read_csv(path.read_bytes(), path.name)
    _require_columns(path.name, frame, ("text", "label"))
    return frame["text"].tolist(), frame["label"].tolist()


def load_labels(data_dir: Path) -> list[str]:
    """The 77 intent names in published order, as written by ``prepare``."""
    path = Path(data_dir) / LABELS_FILE
    if not path.is_file():
        raise DataMissing(f"no label list in {data_dir} ({LABELS_FILE} missing): {_DOWNLOAD_HINT}")
    return json.loads(path.read_text(encoding="utf-8"))


def verify(data_dir: Path) -> dict[str, Any]:
    """Check every prepared file against the manifest's sha256; return the manifest."""
    manifest = read_manifest(data_dir)
    for name, expected in manifest["files"].items():
        path = Path(data_dir) / name
        if not path.is_file():
            raise DataMissing(f"{path} is missing: {_DOWNLOAD_HINT} again")
        if _sha256_bytes(path.read_bytes()) != expected:
            raise DataError(
                f"{path} does not match its sha256 in the manifest: {_DOWNLOAD_HINT} again"
            )
    return manifest


# --- fetching ---------------------------------------------------------------------------


def _fetch_hub(progress: bool) -> RawData:
    import datasets  # heavy import, only needed on this path

    if not progress:
        datasets.disable_progress_bars()
    logger.info("loading %s from the Hugging Face Hub", HUB_DATASET)
    try:
        dataset = datasets.load_dataset(HUB_DATASET)
    except Exception as exc:  # network, auth, hub format: all mean "use another source"
        raise DataError(
            f"could not load {HUB_DATASET} from the Hugging Face Hub ({exc}). Point "
            "CLEANINBOX_DATA_SOURCE at a folder or URL prefix holding train.csv and test.csv, "
            "e.g. https://raw.githubusercontent.com/PolyAI-LDN/task-specific-datasets/master/banking_data"
        ) from exc
    return frames_from_hub(dataset)


def _fetch_files(source: str, read: Any) -> RawData:
    """Read train/test CSVs (``text,category``) and the optional categories.json."""
    blobs = {name: read(name, required=True) for name in ("train.csv", "test.csv")}
    categories = read("categories.json", required=False)
    if categories is not None:
        blobs["categories.json"] = categories
        _check_categories_file(categories)
    frames = {}
    for name in ("train.csv", "test.csv"):
        frame = _read_csv(blobs[name], name)
        _require_columns(name, frame, ("text", "category"))
        frames[name] = frame[["text", "category"]].rename(columns={"category": "label"})
    digests = {name: _sha256_bytes(blob) for name, blob in blobs.items()}
    return RawData(frames["train.csv"], frames["test.csv"], source, digests)


def _folder_reader(folder: Path) -> Any:
    def read(name: str, required: bool) -> bytes | None:
        path = folder / name
        if path.is_file():
            return path.read_bytes()
        if required:
            raise DataError(f"{folder} has no {name}")
        return None

    return read


def _url_reader(prefix: str, progress: bool) -> Any:
    base = prefix.rstrip("/") + "/"

    def read(name: str, required: bool) -> bytes | None:
        url = base + name
        try:
            return _download(url, progress)
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and not required:
                return None
            raise DataError(f"could not download {url}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DataError(f"could not download {url}: {exc}") from exc

    return read


def _download(url: str, progress: bool) -> bytes:
    logger.info("downloading %s", url)
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (http(s) only)
        total = int(response.headers.get("Content-Length") or 0) or None
        buffer = io.BytesIO()
        name = url.rsplit("/", 1)[-1]
        with tqdm(total=total, unit="B", unit_scale=True, desc=name, disable=not progress) as bar:
            while chunk := response.read(1 << 16):
                buffer.write(chunk)
                bar.update(len(chunk))
    return buffer.getvalue()


def _read_csv(blob: bytes, name: str) -> pd.DataFrame:
    try:
        # keep_default_na=False: a query reading "NA" or "null" is text, not a missing value.
        return pd.read_csv(io.BytesIO(blob), dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{name} is not a readable UTF-8 CSV: {exc}") from exc


# --- validation -------------------------------------------------------------------------


def _require_columns(name: str, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{name} is missing column(s) {_names(missing)}; found {_names(frame.columns)}; "
            f"expected {','.join(columns)}"
        )


def _check_no_blanks(split: str, frame: pd.DataFrame) -> None:
    for column in ("text", "label"):
        blank = frame.index[frame[column].fillna("").str.strip() == ""].tolist()
        if blank:
            rows = ", ".join(str(i + 1) for i in blank[:5]) + (", …" if len(blank) > 5 else "")
            raise DataError(
                f"{split} has {len(blank)} row(s) with an empty {column} (data rows {rows})"
            )


def _check_label_names(split: str, found: set[str], require_all: bool) -> None:
    published = set(BANKING77_LABELS)
    unknown = sorted(found - published)
    if unknown:
        hints = [_did_you_mean(name) for name in unknown[:5]]
        raise DataError(
            f"{split} has {len(unknown)} intent name(s) not in the published BANKING77 list: "
            + "; ".join(hints)
        )
    missing = sorted(published - found)
    if require_all and missing:
        raise DataError(
            f"{split} has {len(found)} intents; BANKING77 has {len(published)}. "
            f"Missing: {_names(missing)}"
        )


def _check_categories_file(blob: bytes) -> None:
    try:
        names = json.loads(blob)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"categories.json is not valid JSON: {exc}") from exc
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DataError("categories.json must be a JSON list of intent names")
    if len(names) != len(set(names)):
        raise DataError("categories.json lists an intent more than once")
    _check_label_names("categories.json", set(names), require_all=True)


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, BANKING77_LABELS, n=1)
    return f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name)


def _names(items: Any) -> str:
    return ", ".join(repr(str(i)) for i in items)


# --- writing ----------------------------------------------------------------------------


def _refuse_foreign_folder(data_dir: Path, source: str | None) -> None:
    """``prepare`` replaces data_dir wholesale, so never point it at someone else's folder."""
    is_folder = bool(source) and not source.startswith(("http://", "https://"))
    if is_folder and Path(source.removeprefix("file://")).expanduser().absolute() == data_dir:
        raise DataError(f"data_dir {data_dir} is the source folder; choose another folder")
    if data_dir.is_dir() and any(data_dir.iterdir()) and not (data_dir / MANIFEST_FILE).is_file():
        raise DataError(
            f"refusing to replace {data_dir}: it is not empty and has no {MANIFEST_FILE}, "
            "so prepare did not write it"
        )


def _write(
    data_dir: Path, frames: dict[str, pd.DataFrame], raw: RawData, val_fraction: float, seed: int
) -> DataSummary:
    blobs = {f"{split}.csv": _csv_bytes(frames[split]) for split in SPLITS}
    blobs[LABELS_FILE] = (
        json.dumps(BANKING77_LABELS, indent=2, ensure_ascii=False) + "\n"
    ).encode()
    files = {name: _sha256_bytes(blob) for name, blob in blobs.items()}
    overall = _sha256_bytes("".join(f"{n} {files[n]}\n" for n in sorted(files)).encode())

    previous = _previous_manifest(data_dir)
    unchanged = previous.get("manifest_sha256") == overall and previous.get("source") == raw.source
    manifest = {
        "dataset": "banking77",
        "manifest_version": MANIFEST_VERSION,
        "source": raw.source,
        # An unchanged dataset keeps its date, so a rerun rewrites identical bytes.
        "created_at": previous["created_at"] if unchanged else _now(),
        "seed": seed,
        "val_fraction": val_fraction,
        "rows": {split: len(frames[split]) for split in SPLITS},
        "n_labels": len(BANKING77_LABELS),
        "files": files,
        "source_sha256": raw.source_sha256,
        "manifest_sha256": overall,
    }
    blobs[MANIFEST_FILE] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    swap_in(data_dir, blobs)
    logger.info("wrote BANKING77 splits to %s (%s)", data_dir, overall[:12])
    return DataSummary(
        data_dir, raw.source, manifest["rows"], len(BANKING77_LABELS), overall, unchanged
    )


def swap_in(data_dir: Path, blobs: dict[str, bytes]) -> None:
    """Write every file (relative path -> bytes) into a sibling temp folder, then rename it
    over data_dir; the old folder comes back if the rename fails."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.tmp-", dir=data_dir.parent))
    old = tmp.with_name(tmp.name.replace(".tmp-", ".old-"))
    try:
        for name, blob in blobs.items():
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes(blob)
        tmp.chmod(0o755)  # mkdtemp makes it 0700; the web and worker users read it too
        # rename(2) cannot replace a non-empty folder, so move the old one aside first; the
        # window in which data_dir is absent only yields a clear "download_data" error.
        if data_dir.exists():
            data_dir.rename(old)
        try:
            tmp.rename(data_dir)
        except OSError:
            if old.exists():
                old.rename(data_dir)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _previous_manifest(data_dir: Path) -> dict[str, Any]:
    try:
        return read_manifest(data_dir)
    except DataError:
        return {}


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame[["text", "label"]].to_csv(index=False, lineterminator="\n").encode("utf-8")


def _sha256_bytes(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
