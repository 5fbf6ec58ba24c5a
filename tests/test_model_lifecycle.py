"""The whole life of a model, fast: CSV files -> download_data -> train_model (a tiny BERT)
-> load and predict -> evaluate_model -> publish_model (GCS emulator) -> pull_model into a
clean model folder -> promote_model -> a real Celery worker classifies a new email with it."""

from __future__ import annotations

import csv
import shutil
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from classifier import artifact
from inbox import intents, services
from inbox.models import Email
from inbox.tests.factories import EmailFactory, email_payload
from mlops import data, registry
from mlops.config import EXPERIMENTS_DIR
from mlops.models import ModelVersion
from mlops.tests.gcs_emulator import fresh_bucket, running_emulator
from mlops.tests.tiny_transformer import SHARED, build_tiny_base
from tests.helpers import wait_for

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="no local BANKING77 folder")

QUERY = "I ordered a new card two weeks ago and it still has not arrived"


@pytest.fixture(scope="module")
def gcs_emulator():
    with running_emulator() as url:
        yield url


def write_small_source(folder: Path, train_per_label: int = 6, test_per_label: int = 2) -> Path:
    """A folder shaped like PolyAI's release: a few real queries of every one of the 77 intents."""
    folder.mkdir(parents=True)
    raw = data.fetch(str(SHARED), progress=False)
    for name, frame, n in (
        ("train.csv", raw.train, train_per_label),
        ("test.csv", raw.test, test_per_label),
    ):
        rows = frame.groupby("label", sort=False).head(n)
        with (folder / name).open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(
                [["text", "category"], *rows[["text", "label"]].values.tolist()]
            )
    shutil.copy(SHARED / "categories.json", folder / "categories.json")
    return folder


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), verbosity=0, **options)
    return out.getvalue()


def test_a_model_goes_from_csv_files_to_classifying_new_email(
    celery_worker, api_client, staff, gcs_emulator, settings, tmp_path
):
    # Data: a local CSV folder through the real command.
    data_dir = tmp_path / "data"
    run(
        "download_data",
        source=str(write_small_source(tmp_path / "source")),
        data_dir=data_dir,
        val_fraction=0.2,
    )
    assert len(data.load_labels(data_dir)) == 77

    # An agent's correction, with a card number in it, joins the training data.
    corrected = EmailFactory(subject="", body_text="Card 4111 1111 1111 1111 has not come yet")
    services.record_correction(corrected, "card_arrival", staff)

    # Train a tiny BERT for one epoch through the command, with the corrections.
    tiny = build_tiny_base(tmp_path / "tiny-bert")
    out = run(
        "train_model", "--config", str(EXPERIMENTS_DIR / "minilm.yaml"),
        "--set", f"base_model={tiny}", "--set", "name=tiny", "--set", "epochs=1",
        "--set", "max_length=32", "--set", "wandb=false", "--with-corrections",
        data_dir=data_dir,
    )  # fmt: skip
    row = ModelVersion.objects.get()
    version, trained_path = row.version, registry.local_path(row)
    assert f"Trained {version}" in out and "Adding 1 corrected email(s)" in out
    assert row.kind == "transformer" and row.validation_accuracy is not None
    assert artifact.read_metadata(trained_path)["extra_examples"]["used"] == 1

    # The artifact loads on its own and predicts calibrated probabilities over the 77 intents.
    model = artifact.load(trained_path, expected_labels=intents.LABELS)
    expected = model.predict([QUERY])[0]
    assert expected.label in intents.LABELS
    assert np.allclose(model.predict_proba([QUERY, "hello"]).sum(axis=1), 1.0)

    # Final numbers on the held-out test split, stored with the version.
    out = run("evaluate_model", version, data_dir=data_dir)
    assert out.startswith(f"Test split, {version}:\n154 examples")
    assert registry.get(version).test_accuracy is not None
    assert (settings.CLEANINBOX_REPORTS_DIR / version / "confusion_matrix.png").is_file()

    # Publish, then pull into an empty model folder on a "machine" that never saw it.
    bucket = fresh_bucket(settings)
    assert (
        run("publish_model", version).strip()
        == f"Published {version} to gs://{bucket}/cleaninbox/models/{version}/"
    )
    evaluated = registry.get(version).test_metrics
    ModelVersion.objects.all().delete()
    shutil.rmtree(trained_path)
    settings.CLEANINBOX_MODEL_DIR = tmp_path / "clean-models"
    assert run("pull_model", version).startswith(f"Pulled {version} (transformer)")
    pulled = registry.get(version)
    assert Path(pulled.local_path) == settings.CLEANINBOX_MODEL_DIR / version
    assert pulled.test_metrics == evaluated

    # Promote it; a real worker classifies a newly ingested email with it.
    assert run("promote_model", version).startswith(f"Promoted {version} (transformer)")
    response = api_client.post(
        "/api/emails/", email_payload(7, subject="", body_text=QUERY), format="json"
    )
    assert response.status_code == 202
    email_id = response.json()["id"]
    assert wait_for(lambda: Email.objects.get(pk=email_id).status != Email.Status.PENDING)
    email = Email.objects.get(pk=email_id)
    assert email.status in (Email.Status.CLASSIFIED, Email.Status.NEEDS_REVIEW)
    assert email.model_version == version
    assert email.intent == expected.label
    assert email.confidence == pytest.approx(expected.confidence, abs=1e-5)
