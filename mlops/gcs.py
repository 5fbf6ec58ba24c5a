"""Model versions in Google Cloud Storage: publish, pull and list them.

A published version lives at ``gs://<GCS_BUCKET>/<GCS_PREFIX>/<version>/`` and holds the
artifact's files, its ``metadata.json`` and a ``_COMPLETE`` marker. Upload order is the
contract: the model files first (each checked against the checksums the server reports),
then ``metadata.json``, then the marker. ``download_version`` and ``list_versions`` only
see versions with the marker, so an interrupted upload is never pulled.

The storage client is built on first use from settings (GCS_BUCKET, GCS_PREFIX,
GCS_PROJECT). With STORAGE_EMULATOR_HOST set (local emulator, tests) the client talks to
the emulator with anonymous credentials; otherwise it uses Application Default Credentials.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import google_crc32c
from django.conf import settings
from tqdm import tqdm

from classifier import artifact

if TYPE_CHECKING:
    from google.cloud import storage

MARKER = "_COMPLETE"
_CHUNK = 1 << 20

_client: storage.Client | None = None
_client_key: tuple[str, str] | None = None


class GCSError(Exception):
    """Storage is not configured, unreachable, or a version is absent or damaged."""


class VersionNotPublished(GCSError):
    """No complete copy of the version exists in the bucket."""


@dataclass(frozen=True)
class RemoteVersion:
    """A complete version in the bucket, described by its ``_COMPLETE`` marker."""

    version: str
    uri: str
    kind: str
    published_at: str
    validation_accuracy: float | None
    files: int
    bytes: int


# --- client ------------------------------------------------------------------------------


def client() -> storage.Client:
    """The storage client, built once per process (again if the emulator setting changes)."""
    global _client, _client_key
    emulator = os.environ.get("STORAGE_EMULATOR_HOST", "")
    key = (settings.GCS_PROJECT, emulator)
    if _client is None or _client_key != key:
        from google.cloud import storage  # slow import, only needed when storage is used

        credentials = None
        if emulator:
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()
        _client = storage.Client(project=settings.GCS_PROJECT or None, credentials=credentials)
        _client_key = key
    return _client


def bucket() -> storage.Bucket:
    if not settings.GCS_BUCKET:
        raise GCSError(
            "GCS_BUCKET is not set: set it (and GCS_PREFIX, GCS_PROJECT) to publish or pull "
            "model versions; for a local emulator also set STORAGE_EMULATOR_HOST"
        )
    return client().bucket(settings.GCS_BUCKET)


def version_prefix(version: str) -> str:
    """The object-name prefix of one version, ending in a slash."""
    if not version or "/" in version or version in {".", ".."}:
        raise GCSError(f"invalid model version name {version!r}")
    prefix = settings.GCS_PREFIX.strip("/")
    return f"{prefix}/{version}/" if prefix else f"{version}/"


def version_uri(version: str) -> str:
    return f"gs://{settings.GCS_BUCKET}/{version_prefix(version)}"


# --- publish -----------------------------------------------------------------------------


def upload_version(
    local_dir: Path, version: str | None = None, *, overwrite: bool = False, progress: bool = True
) -> str:
    """Upload a model version folder and return its ``gs://`` URI.

    The local artifact is checked first (a broken version is never published). A version
    already published with identical files is left as it is; with different files it is
    refused unless ``overwrite``, which withdraws the marker before replacing anything.
    """
    local_dir = Path(local_dir)
    meta = artifact.read_metadata(local_dir)
    artifact.verify_checksums(local_dir, meta)
    version = version or meta["version"]
    if meta["version"] != version:
        raise GCSError(f"{local_dir} holds version {meta['version']!r}, not {version!r}")
    files = [artifact.METADATA_FILE, *sorted(meta["files"])]
    prefix = version_prefix(version)
    with _storage_errors():
        target = bucket()
        remote = {b.name: b for b in target.list_blobs(prefix=prefix)}
        if prefix + MARKER in remote:
            if _same_files(local_dir, files, prefix, remote):
                return version_uri(version)
            if not overwrite:
                raise GCSError(
                    f"{version_uri(version)} is already published with different files; "
                    "publish again with overwrite (--force) to replace it"
                )
            # Withdraw first: from here on the version is invisible until re-marked.
            remote.pop(prefix + MARKER).delete()
        for stale in set(remote) - {prefix + name for name in files}:
            remote[stale].delete()
        total = sum((local_dir / name).stat().st_size for name in files)
        with tqdm(total=total, unit="B", unit_scale=True, desc=f"upload {version}",
                  disable=not progress) as bar:  # fmt: skip
            # metadata.json is last in upload order: files[0] is it, so rotate it to the end.
            for name in [*files[1:], files[0]]:
                _upload_verified(target, local_dir / name, prefix + name)
                bar.update((local_dir / name).stat().st_size)
        marker = {
            "version": version,
            "kind": meta["kind"],
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "metadata_sha256": artifact.sha256_file(local_dir / artifact.METADATA_FILE),
            "validation_accuracy": ((meta.get("metrics") or {}).get("validation") or {}).get(
                "accuracy"
            ),
            "files": len(files),
            "bytes": total,
        }
        target.blob(prefix + MARKER).upload_from_string(
            json.dumps(marker, indent=2), content_type="application/json"
        )
    return version_uri(version)


def _upload_verified(target: storage.Bucket, path: Path, name: str) -> None:
    """Upload one file and compare the server's crc32c/md5 with the local file's."""
    blob = target.blob(name)
    blob.upload_from_filename(str(path), checksum="crc32c")
    blob.reload()  # what the server says it stored, not what the upload response echoed
    crc32c, md5 = _local_hashes(path)
    reported = {"crc32c": (blob.crc32c, crc32c), "md5": (blob.md5_hash, md5)}
    checked = {k: v for k, v in reported.items() if v[0]}
    if not checked or any(remote != local for remote, local in checked.values()):
        blob.delete()
        raise GCSError(f"upload of {path.name} to {name} did not verify: {checked or 'no hashes'}")


def _local_hashes(path: Path) -> tuple[str, str]:
    crc, md5 = google_crc32c.Checksum(), hashlib.md5()  # noqa: S324 (GCS reports md5)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            crc.update(block)
            md5.update(block)
    return base64.b64encode(crc.digest()).decode(), base64.b64encode(md5.digest()).decode()


def _same_files(local_dir: Path, files: list[str], prefix: str, remote: dict[str, Any]) -> bool:
    names = {prefix + name for name in files} | {prefix + MARKER}
    if set(remote) != names:
        return False
    return all(remote[prefix + n].md5_hash == _local_hashes(local_dir / n)[1] for n in files)


# --- pull --------------------------------------------------------------------------------


def download_version(version: str, dest: Path, *, progress: bool = True) -> Path:
    """Download a complete version into ``dest`` (which must not exist) and return it.

    Files land in a temporary folder beside ``dest``; every file's sha256 is checked
    against metadata.json before the folder is renamed into place, so ``dest`` either
    holds the verified version or does not exist.
    """
    dest = Path(dest)
    if dest.exists():
        raise GCSError(f"{dest} already exists; remove it or pull into another folder")
    prefix = version_prefix(version)
    with _storage_errors():
        target = bucket()
        blobs = [b for b in target.list_blobs(prefix=prefix) if not b.name.endswith("/")]
        if prefix + MARKER not in {b.name for b in blobs}:
            raise VersionNotPublished(
                f"no complete version {version!r} at {version_uri(version)} "
                f"(missing {MARKER}: never published, or its upload did not finish)"
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".tmp-pull-{dest.name}-{uuid.uuid4().hex[:8]}"
        try:
            _download_all([b for b in blobs if b.name != prefix + MARKER], prefix, tmp, progress)
            _verify_download(tmp, version)
            tmp.rename(dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _download_all(blobs: list[Any], prefix: str, tmp: Path, progress: bool) -> None:
    total = sum(b.size or 0 for b in blobs)
    with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {prefix.rstrip('/')}",
              disable=not progress) as bar:  # fmt: skip
        for blob in blobs:
            relative = PurePosixPath(blob.name[len(prefix) :])
            if relative.is_absolute() or ".." in relative.parts:
                raise GCSError(f"refusing object name outside the version folder: {blob.name}")
            path = tmp.joinpath(*relative.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            blob.download_to_filename(str(path))  # the client checks the server's md5/crc32c
            bar.update(blob.size or 0)


def _verify_download(tmp: Path, version: str) -> None:
    try:
        meta = artifact.read_metadata(tmp)
        artifact.verify_checksums(tmp, meta)
    except artifact.UnusableModel as exc:
        raise GCSError(f"refusing remote version {version!r}: {exc}") from exc
    if meta["version"] != version:
        raise GCSError(f"remote folder {version!r} holds version {meta['version']!r}")
    present = {str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file()}
    unexpected = sorted(present - set(meta["files"]) - {artifact.METADATA_FILE})
    if unexpected:
        raise GCSError(f"refusing remote version {version!r}: unrecorded files {unexpected}")


# --- list --------------------------------------------------------------------------------


def list_versions() -> list[RemoteVersion]:
    """The complete versions in the bucket, newest publication first."""
    root = settings.GCS_PREFIX.strip("/")
    with _storage_errors():
        target = bucket()
        markers = [
            b
            for b in target.list_blobs(prefix=f"{root}/" if root else None)
            if b.name.endswith("/" + MARKER)
        ]
        found = []
        for blob in markers:
            info = json.loads(blob.download_as_bytes())
            version = blob.name[: -len(MARKER) - 1].rsplit("/", 1)[-1]
            found.append(
                RemoteVersion(
                    version=version,
                    uri=version_uri(version),
                    kind=info.get("kind", ""),
                    published_at=info.get("published_at", ""),
                    validation_accuracy=info.get("validation_accuracy"),
                    files=int(info.get("files", 0)),
                    bytes=int(info.get("bytes", 0)),
                )
            )
    return sorted(found, key=lambda v: v.published_at, reverse=True)


@contextmanager
def _storage_errors() -> Iterator[None]:
    """Turn the client's exceptions into GCSError naming the bucket."""
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth
    from requests import RequestException

    try:
        yield
    except api.NotFound as exc:
        raise GCSError(f"not found in bucket {settings.GCS_BUCKET!r}: {exc.message}") from exc
    except (api.GoogleAPIError, auth.GoogleAuthError, RequestException) as exc:
        raise GCSError(f"Google Cloud Storage ({settings.GCS_BUCKET!r}): {exc}") from exc
