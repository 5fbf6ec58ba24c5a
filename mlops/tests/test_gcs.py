"""mlops.gcs against a real GCS emulator: publish, pull, tampering, half uploads, settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifier import artifact
from mlops import gcs
from mlops.tests.artifacts import copy_version, corrupt


@pytest.fixture
def version_dir(baseline_artifact, tmp_path) -> Path:
    """A private copy of the real baseline, so tests may change it."""
    return copy_version(baseline_artifact, tmp_path / "local", "tfidf-under-test")


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def remote_names(bucket_name: str) -> set[str]:
    return {b.name for b in gcs.client().list_blobs(bucket_name)}


def test_a_published_version_pulls_into_a_clean_folder_byte_for_byte(
    gcs_bucket, version_dir, tmp_path
):
    uri = gcs.upload_version(version_dir, progress=False)
    pulled = gcs.download_version("tfidf-under-test", tmp_path / "clean" / "v", progress=False)

    assert uri == f"gs://{gcs_bucket}/cleaninbox/models/tfidf-under-test/"
    assert files_of(pulled) == files_of(version_dir)
    model = artifact.load(pulled)
    assert model.predict(["my card has not arrived yet"])[0].label == "card_arrival"


def test_the_version_folder_holds_the_files_metadata_and_a_completion_marker(
    gcs_bucket, version_dir
):
    gcs.upload_version(version_dir, progress=False)

    prefix = "cleaninbox/models/tfidf-under-test/"
    expected = {prefix + name for name in files_of(version_dir)} | {prefix + gcs.MARKER}
    assert remote_names(gcs_bucket) == expected
    marker = json.loads(gcs.bucket().blob(prefix + gcs.MARKER).download_as_bytes())
    assert marker["metadata_sha256"] == artifact.sha256_file(version_dir / "metadata.json")


def test_a_tampered_remote_file_is_refused_and_nothing_is_left_behind(
    gcs_bucket, version_dir, tmp_path
):
    gcs.upload_version(version_dir, progress=False)
    remote = gcs.bucket().blob("cleaninbox/models/tfidf-under-test/pipeline.joblib")
    remote.upload_from_string(b"not the model that was published")
    dest = tmp_path / "pulled" / "tfidf-under-test"

    with pytest.raises(gcs.GCSError, match="checksum mismatch for pipeline.joblib"):
        gcs.download_version("tfidf-under-test", dest, progress=False)

    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []  # the temporary folder is gone too


def test_a_file_added_to_a_published_version_is_refused(gcs_bucket, version_dir, tmp_path):
    gcs.upload_version(version_dir, progress=False)
    gcs.bucket().blob("cleaninbox/models/tfidf-under-test/extra.pkl").upload_from_string(b"x")

    with pytest.raises(gcs.GCSError, match="unrecorded files"):
        gcs.download_version("tfidf-under-test", tmp_path / "v", progress=False)


def test_a_version_without_its_completion_marker_is_invisible(gcs_bucket, version_dir, tmp_path):
    # What an upload interrupted before its last step leaves behind: every file, no marker.
    target = gcs.bucket()
    for name in files_of(version_dir):
        blob = target.blob(f"cleaninbox/models/tfidf-under-test/{name}")
        blob.upload_from_filename(str(version_dir / name))

    with pytest.raises(gcs.VersionNotPublished, match="missing _COMPLETE"):
        gcs.download_version("tfidf-under-test", tmp_path / "v", progress=False)
    assert gcs.list_versions() == []
    assert not (tmp_path / "v").exists()


def test_publishing_again_completes_an_interrupted_upload(gcs_bucket, version_dir, tmp_path):
    gcs.bucket().blob("cleaninbox/models/tfidf-under-test/left-over.tmp").upload_from_string(b"x")

    gcs.upload_version(version_dir, progress=False)

    assert "cleaninbox/models/tfidf-under-test/left-over.tmp" not in remote_names(gcs_bucket)
    gcs.download_version("tfidf-under-test", tmp_path / "v", progress=False)


def test_list_versions_describes_each_complete_version(gcs_bucket, baseline_artifact, tmp_path):
    for name in ("first", "second"):
        gcs.upload_version(copy_version(baseline_artifact, tmp_path, name), progress=False)

    listed = gcs.list_versions()

    assert {v.version for v in listed} == {"first", "second"}
    accuracy = artifact.read_metadata(baseline_artifact)["metrics"]["validation"]["accuracy"]
    assert all(v.kind == "tfidf" and v.validation_accuracy == accuracy for v in listed)
    assert listed[0].uri.startswith(f"gs://{gcs_bucket}/cleaninbox/models/")


def test_republishing_identical_files_is_a_no_op_but_changed_files_need_overwrite(
    gcs_bucket, version_dir, tmp_path
):
    gcs.upload_version(version_dir, progress=False)
    marker = gcs.bucket().get_blob("cleaninbox/models/tfidf-under-test/_COMPLETE")

    gcs.upload_version(version_dir, progress=False)
    assert gcs.bucket().get_blob(marker.name).generation == marker.generation

    artifact.update_metadata(version_dir, threshold=0.42)
    with pytest.raises(gcs.GCSError, match="already published with different files"):
        gcs.upload_version(version_dir, progress=False)
    gcs.upload_version(version_dir, overwrite=True, progress=False)
    pulled = gcs.download_version("tfidf-under-test", tmp_path / "v", progress=False)
    assert artifact.read_metadata(pulled)["threshold"] == 0.42


def test_a_locally_corrupt_version_is_never_published(gcs_bucket, version_dir):
    corrupt(version_dir)

    with pytest.raises(artifact.UnusableModel, match="checksum mismatch"):
        gcs.upload_version(version_dir, progress=False)
    assert remote_names(gcs_bucket) == set()


def test_pulling_into_an_existing_folder_is_refused(gcs_bucket, version_dir):
    gcs.upload_version(version_dir, progress=False)
    with pytest.raises(gcs.GCSError, match="already exists"):
        gcs.download_version("tfidf-under-test", version_dir, progress=False)


def test_an_unset_bucket_is_a_clear_error(settings, gcs_emulator, version_dir):
    settings.GCS_BUCKET = ""
    with pytest.raises(gcs.GCSError, match="GCS_BUCKET is not set"):
        gcs.upload_version(version_dir, progress=False)
    with pytest.raises(gcs.GCSError, match="GCS_BUCKET is not set"):
        gcs.list_versions()


def test_a_bucket_that_does_not_exist_is_named_in_the_error(settings, gcs_emulator, tmp_path):
    settings.GCS_BUCKET = "no-such-bucket"
    with pytest.raises(gcs.GCSError, match="no-such-bucket"):
        gcs.download_version("anything", tmp_path / "v", progress=False)


@pytest.mark.parametrize("name", ["", "a/b", ".."])
def test_version_names_cannot_escape_the_prefix(settings, name):
    settings.GCS_BUCKET = "bucket"
    with pytest.raises(gcs.GCSError, match="invalid model version name"):
        gcs.version_prefix(name)
