"""mlops.data: fetching, validating, splitting and writing BANKING77."""

from __future__ import annotations

import csv
import functools
import http.server
import json
import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import datasets
import pytest

from mlops import data
from mlops.data import BANKING77_LABELS, DataError, DataMissing

# The real data: CLEANINBOX_DATA_SOURCE when it is a folder (as in CI), else the shared copy.
SHARED = Path(os.environ.get("CLEANINBOX_DATA_SOURCE") or "/work/shared/data/banking77")
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="no local BANKING77 folder")


def write_source(
    folder: Path,
    per_label: int = 4,
    labels: list[str] | None = None,
    header: tuple[str, str] = ("text", "category"),
    categories: list[str] | None = None,
) -> Path:
    """A small BANKING77-shaped source: ``per_label`` train rows and one test row per intent."""
    labels = BANKING77_LABELS if labels is None else labels
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "train.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for i in range(per_label):
            writer.writerows([f"train {i} about {label}, please", label] for label in labels)
    with (folder / "test.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([f"test about {label}", label] for label in labels)
    if categories is not None:
        (folder / "categories.json").write_text(json.dumps(categories), encoding="utf-8")
    return folder


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_source(tmp_path / "source", categories=BANKING77_LABELS)


def prepare(source: Path | str, out: Path, **kwargs) -> data.DataSummary:
    kwargs.setdefault("val_fraction", 0.25)  # 4 rows per intent -> one in validation
    return data.prepare(str(source), out, progress=False, **kwargs)


def test_the_label_list_is_the_published_categories_json() -> None:
    assert len(BANKING77_LABELS) == len(set(BANKING77_LABELS)) == 77
    assert "reverted_card_payment?" in BANKING77_LABELS
    if SHARED.is_dir():
        assert json.loads((SHARED / "categories.json").read_text()) == BANKING77_LABELS


@needs_shared
def test_it_prepares_the_real_data_from_a_local_folder(tmp_path: Path) -> None:
    summary = data.prepare(str(SHARED), tmp_path / "banking77", progress=False)

    out = tmp_path / "banking77"
    assert summary.rows == {"train": 9002, "validation": 1001, "test": 3080}
    assert data.load_labels(out) == BANKING77_LABELS
    train_texts, train_labels = data.load_split(out, "train")
    val_texts, val_labels = data.load_split(out, "validation")
    test_texts, test_labels = data.load_split(out, "test")
    with (SHARED / "train.csv").open(encoding="utf-8") as fh:
        published_train = [(r["text"], r["category"]) for r in csv.DictReader(fh)]
    with (SHARED / "test.csv").open(encoding="utf-8") as fh:
        published_test = [(r["text"], r["category"]) for r in csv.DictReader(fh)]
    # train + validation is exactly the published train; test is the published test, untouched.
    assert Counter(zip(train_texts + val_texts, train_labels + val_labels, strict=True)) == (
        Counter(published_train)
    )
    assert list(zip(test_texts, test_labels, strict=True)) == published_test
    manifest = data.verify(out)
    if (SHARED / "README.md").is_file():  # the shared copy lists the published checksums
        readme = (SHARED / "README.md").read_text()
        assert manifest["source_sha256"]["train.csv"] in readme
        assert manifest["source_sha256"]["test.csv"] in readme
    assert "77 intents" in str(summary)


def test_running_it_twice_writes_the_same_bytes(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = prepare(source, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    second = prepare(source, out)

    assert not first.unchanged
    assert second.unchanged
    assert first.manifest_sha256 == second.manifest_sha256
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(before) == [
        "labels.json", "manifest.json", "test.csv", "train.csv", "validation.csv"
    ]  # fmt: skip
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no temp leftovers


def test_the_overall_hash_covers_the_data_not_the_date(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    prepare(source, out)
    manifest = data.read_manifest(out)
    manifest_path = out / "manifest.json"
    manifest["created_at"] = "2000-01-01T00:00:00+00:00"
    manifest_path.write_text(json.dumps(manifest))

    assert prepare(source, out).manifest_sha256 == manifest["manifest_sha256"]
    assert prepare(source, out, seed=7).manifest_sha256 != manifest["manifest_sha256"]


def test_validation_is_stratified_and_seeded(source: Path, tmp_path: Path) -> None:
    prepare(source, tmp_path / "a", seed=1)
    prepare(source, tmp_path / "b", seed=1)
    prepare(source, tmp_path / "c", seed=2)

    val_texts, val_labels = data.load_split(tmp_path / "a", "validation")
    assert Counter(val_labels) == dict.fromkeys(BANKING77_LABELS, 1)
    _, train_labels = data.load_split(tmp_path / "a", "train")
    assert Counter(train_labels) == dict.fromkeys(BANKING77_LABELS, 3)
    assert data.load_split(tmp_path / "b", "validation")[0] == val_texts
    assert data.load_split(tmp_path / "c", "validation")[0] != val_texts


def test_the_manifest_records_what_was_written(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    prepare(source, out, seed=3)
    manifest = data.read_manifest(out)

    assert manifest["source"] == str(source)
    assert (manifest["seed"], manifest["val_fraction"]) == (3, 0.25)
    assert manifest["rows"] == {"train": 231, "validation": 77, "test": 77}
    assert set(manifest["files"]) == {"train.csv", "validation.csv", "test.csv", "labels.json"}
    assert set(manifest["source_sha256"]) == {"train.csv", "test.csv", "categories.json"}
    assert data.verify(out) == manifest


def test_verify_notices_a_changed_file(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    prepare(source, out)
    with (out / "test.csv").open("a", encoding="utf-8") as fh:
        fh.write("sneaked in,card_arrival\n")

    with pytest.raises(DataError, match="test.csv does not match its sha256"):
        data.verify(out)


def test_texts_that_look_like_missing_values_stay_text(tmp_path: Path) -> None:
    src = write_source(tmp_path / "src")
    (src / "test.csv").write_text("text,category\nNA,card_arrival\nnull,age_limit\n")
    prepare(src, tmp_path / "out")

    assert data.load_split(tmp_path / "out", "test") == (
        ["NA", "null"],
        ["card_arrival", "age_limit"],
    )


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("missing_column", "train.csv is missing column.*'category'"),
        ("76_labels", "train has 76 intents; BANKING77 has 77. Missing: 'country_support'"),
        ("renamed_label", "did you mean 'reverted_card_payment\\?'"),
        ("empty_text", "train has 1 row.* with an empty text \\(data rows 3\\)"),
        ("unknown_test_label", "test has 1 intent name.* not in the published"),
        ("bad_categories", "categories.json has 76 intents"),
    ],
)
def test_it_rejects_data_that_is_not_banking77(tmp_path: Path, breakage: str, message: str) -> None:
    src = tmp_path / "src"
    if breakage == "missing_column":
        write_source(src, header=("text", "intent"))
    elif breakage == "76_labels":
        write_source(src, labels=BANKING77_LABELS[:-1])
    elif breakage == "renamed_label":
        renamed = [n.rstrip("?") for n in BANKING77_LABELS]
        write_source(src, labels=renamed)
    elif breakage == "empty_text":
        write_source(src)
        rows = (src / "train.csv").read_text().splitlines()
        rows[3] = ",card_arrival"
        (src / "train.csv").write_text("\n".join(rows) + "\n")
    elif breakage == "unknown_test_label":
        write_source(src)
        with (src / "test.csv").open("a") as fh:
            fh.write("where is my crypto?,crypto_support\n")
    elif breakage == "bad_categories":
        write_source(src, categories=BANKING77_LABELS[1:])

    with pytest.raises(DataError, match=message):
        prepare(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_failed_run_leaves_the_previous_data_in_place(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    good = prepare(source, out)
    broken = write_source(tmp_path / "broken", labels=BANKING77_LABELS[:10])

    with pytest.raises(DataError):
        prepare(broken, out)
    assert data.verify(out)["manifest_sha256"] == good.manifest_sha256


def test_it_refuses_to_replace_a_folder_it_did_not_write(source: Path, tmp_path: Path) -> None:
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("years of work")

    with pytest.raises(DataError, match="refusing to replace"):
        prepare(source, tmp_path / "precious")
    with pytest.raises(DataError, match="is the source folder"):
        prepare(source, source)
    assert (tmp_path / "precious" / "thesis.tex").read_text() == "years of work"


def test_too_small_a_validation_fraction_is_explained(source: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="stratified validation split"):
        prepare(source, tmp_path / "out", val_fraction=0.01)
    with pytest.raises(DataError, match="between 0 and 1"):
        prepare(source, tmp_path / "out", val_fraction=1.5)


def test_readers_tell_the_user_to_download_first(tmp_path: Path) -> None:
    for read in (data.read_manifest, data.load_labels, lambda d: data.load_split(d, "train")):
        with pytest.raises(DataMissing, match="manage.py download_data"):
            read(tmp_path)
    with pytest.raises(ValueError, match="unknown split"):
        data.load_split(tmp_path, "dev")


def test_a_missing_folder_or_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a folder"):
        prepare(tmp_path / "nowhere", tmp_path / "out")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "train.csv").write_text("text,category\n")
    with pytest.raises(DataError, match="has no test.csv"):
        prepare(tmp_path / "half", tmp_path / "out")


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real local HTTP server serving a folder, for URL-prefix sources."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def test_it_downloads_from_a_url_prefix(http_server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = http_server
    write_source(root / "banking_data")  # no categories.json: it is optional
    local = prepare(write_source(tmp_path / "local"), tmp_path / "from-folder")

    summary = prepare(f"{base}/banking_data/", tmp_path / "from-url")

    assert summary.source == f"{base}/banking_data/"
    assert summary.manifest_sha256 == local.manifest_sha256
    assert summary.rows["test"] == 77


def test_a_url_without_the_csvs_is_reported(http_server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = http_server
    with pytest.raises(DataError, match="train.csv: HTTP 404"):
        prepare(f"{base}/empty", tmp_path / "out")


def hub_dataset(names: list[str], rows: list[tuple[str, str]]) -> datasets.Dataset:
    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=names)}
    )
    return datasets.Dataset.from_dict(
        {"text": [t for t, _ in rows], "label": [names.index(n) for _, n in rows]},
        features=features,
    )


def test_hub_integer_labels_become_published_names(tmp_path: Path) -> None:
    # The Hub orders its ClassLabel names alphabetically, not like categories.json.
    names = sorted(BANKING77_LABELS)
    train = [(f"row {i} {n}", n) for i in range(4) for n in BANKING77_LABELS]
    test = [("is my refund reverted?", "reverted_card_payment?"), ("hello", "age_limit")]
    hub = datasets.DatasetDict(
        {"train": hub_dataset(names, train), "test": hub_dataset(names, test)}
    )

    raw = data.frames_from_hub(hub)
    data.validate(raw)

    assert raw.source == "hf://PolyAI/banking77"
    assert list(zip(raw.train["text"], raw.train["label"], strict=True)) == train
    assert raw.test["label"].tolist() == ["reverted_card_payment?", "age_limit"]
    assert set(raw.source_sha256) == {"train.csv", "test.csv"}


def test_hub_data_without_class_names_is_rejected() -> None:
    plain = datasets.Dataset.from_dict({"text": ["hi"], "label": [3]})
    with pytest.raises(DataError, match="not a ClassLabel"):
        data.frames_from_hub({"train": plain, "test": plain})
    with pytest.raises(DataError, match="no 'test' split"):
        data.frames_from_hub({"train": plain})
