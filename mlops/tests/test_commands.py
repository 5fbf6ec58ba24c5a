"""The model lifecycle commands: output, registry effects, and readable CommandErrors."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from classifier import artifact
from mlops import registry
from mlops.models import ModelVersion
from mlops.tests.artifacts import copy_version, corrupt

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), verbosity=0, **options)
    return out.getvalue()


@pytest.fixture
def second(active_model, baseline_artifact, settings) -> ModelVersion:
    return registry.register(
        copy_version(baseline_artifact, settings.CLEANINBOX_MODEL_DIR, "second")
    )


# --- list_models, promote_model ----------------------------------------------------------


def test_list_models_prints_a_table_and_the_active_version(active_model, second):
    out = run("list_models")

    header, rule, *rows, footer = out.strip().splitlines()
    assert header.split() == [
        "version",
        "kind",
        "stage",
        "val",
        "acc",
        "test",
        "acc",
        "threshold",
        "created",
        "parent",
        "corr",
        "commit",
        "gates",
    ]
    assert set(rule) == {"-", " "}
    assert [r.split()[:3] for r in rows] == [
        ["second", "tfidf", "candidate"],
        [active_model.version, "tfidf", "production"],
    ]
    assert f"{active_model.validation_accuracy:.1%}" in rows[1]
    assert footer == f"2 version(s); active: {active_model.version}"


def test_list_models_on_an_empty_registry():
    assert "No model versions registered." in run("list_models")


def test_promote_model_switches_and_rollback_switches_back(active_model, second):
    assert run("promote_model", "second").startswith("Promoted second (tfidf)")
    assert registry.active().version == "second"

    assert run("promote_model", "--rollback").startswith(f"Rolled back to {active_model.version}")
    assert registry.active().version == active_model.version


def test_promote_model_refuses_a_corrupt_artifact(active_model, second):
    corrupt(registry.local_path(second))

    with pytest.raises(CommandError, match=r"not promoted: checksum mismatch for pipeline\.joblib"):
        run("promote_model", "second")
    assert registry.active().version == active_model.version


def test_promote_model_refuses_a_missing_artifact(active_model, second):
    artifact_dir = registry.local_path(second)
    for path in artifact_dir.iterdir():
        path.unlink()
    artifact_dir.rmdir()

    with pytest.raises(CommandError, match="not promoted: no model artifact at .*second"):
        run("promote_model", "second")


def test_promote_model_refuses_the_wrong_label_count(active_model, second):
    labels = artifact.read_metadata(registry.local_path(second))["labels"]
    artifact.update_metadata(registry.local_path(second), labels=labels[:70])

    with pytest.raises(CommandError, match="has 70 labels"):
        run("promote_model", "second")


@pytest.mark.parametrize("args", [(), ("second", "--rollback")])
def test_promote_model_wants_a_version_or_rollback(second, args):
    with pytest.raises(CommandError, match="either a VERSION or --rollback"):
        run("promote_model", *args)


# --- evaluate_model ----------------------------------------------------------------------


def test_evaluate_model_defaults_to_the_active_version(baseline_artifact, banking77_dir, settings):
    copy_version(baseline_artifact, settings.CLEANINBOX_MODEL_DIR, "evaluated")
    registry.register(settings.CLEANINBOX_MODEL_DIR / "evaluated")
    registry.promote("evaluated")

    out = run("evaluate_model", data_dir=banking77_dir)

    assert out.startswith("Test split, evaluated:\n3,080 examples · accuracy")
    assert "serving threshold (chosen on validation)" in out
    row = registry.get("evaluated")
    assert row.test_accuracy > 0.8
    # The promise made on validation, and what test measured at its threshold, bare and
    # wrapped in email shapes.
    assert (
        f"promise (validation): error among auto-routed ≤ 2.0% with probability 90% "
        f"(upper bound {row.promised_error:.2%})" in out
    )
    routed = row.test_routing
    assert (
        f"measured, test: {routed['coverage']:.1%} auto-routed, {routed['error']:.2%} wrong" in out
    )
    assert f"measured, test, email-shaped: {routed['email_coverage']:.1%} auto-routed" in out
    assert 0.3 < routed["email_coverage"] < 1 and routed["email_error"] < 0.05
    assert (settings.CLEANINBOX_REPORTS_DIR / "evaluated" / "selective.png").is_file()


def test_evaluate_model_without_data_points_to_download_data(active_model, tmp_path):
    with pytest.raises(CommandError, match="not evaluated: no BANKING77 data .* download_data"):
        run("evaluate_model", data_dir=tmp_path)


def test_evaluate_model_names_an_unknown_version(banking77_dir):
    with pytest.raises(CommandError, match="no model version 'v9'"):
        run("evaluate_model", "v9", data_dir=banking77_dir)


def test_evaluate_model_over_several_versions_ends_with_mean_and_sd(
    baseline_artifact, banking77_dir, settings
):
    for name in ("seed-a", "seed-b"):
        copy_version(baseline_artifact, settings.CLEANINBOX_MODEL_DIR, name)
        registry.register(settings.CLEANINBOX_MODEL_DIR / name)

    out = run("evaluate_model", "seed-a", "seed-b", data_dir=banking77_dir, no_email_shapes=True)
    stored = run("evaluate_model", "seed-a", "seed-b", stored=True)

    accuracy = registry.get("seed-a").test_accuracy
    # The same model twice: the mean is its accuracy and the spread is zero.
    line = f"accuracy %                 {accuracy * 100:.2f} ± 0.00 (n=2)"
    assert out.count("Test split, seed-") == 2
    assert "2 versions: seed-a, seed-b" in out
    assert line in out.split("test, mean ± sd over runs:")[1]
    assert line in stored.split("test, mean ± sd over runs:")[1]
    assert "Test split" not in stored


def test_evaluate_model_stored_needs_test_scores(baseline_artifact, settings):
    copy_version(baseline_artifact, settings.CLEANINBOX_MODEL_DIR, "never-tested")
    registry.register(settings.CLEANINBOX_MODEL_DIR / "never-tested")
    artifact.update_metadata(
        settings.CLEANINBOX_MODEL_DIR / "never-tested",
        metrics={"validation": registry.get("never-tested").metadata["metrics"]["validation"]},
    )
    registry.register(settings.CLEANINBOX_MODEL_DIR / "never-tested")

    with pytest.raises(CommandError, match="never-tested has no stored test scores"):
        run("evaluate_model", "never-tested", stored=True)


# --- publish_model, pull_model -----------------------------------------------------------


def test_publish_then_pull_into_another_folder_registers_the_version(gcs_bucket, second, tmp_path):
    out = run("publish_model", "second")
    uri = f"gs://{gcs_bucket}/cleaninbox/models/second/"
    assert out.strip() == f"Published second to {uri}"
    assert registry.get("second").remote_uri == uri

    ModelVersion.objects.filter(version="second").delete()
    out = run("pull_model", "second", dest=tmp_path / "elsewhere")

    row = registry.get("second")
    assert out.startswith(f"Pulled second (tfidf) at {tmp_path / 'elsewhere'}; stage candidate")
    assert (row.local_path, row.remote_uri) == (str(tmp_path / "elsewhere"), uri)
    artifact.load(registry.local_path(row))


def test_pulling_a_version_already_present_only_registers_it(gcs_bucket, second):
    run("publish_model", "second")
    out = run("pull_model", "second", dest=registry.local_path(second))
    assert out.startswith("Already present, registered second")


def test_pull_model_of_an_unpublished_version_fails_readably(gcs_bucket, tmp_path):
    with pytest.raises(CommandError, match="not pulled: no complete version 'ghost'"):
        run("pull_model", "ghost", dest=tmp_path / "ghost")


def test_publish_model_without_a_bucket_says_which_setting(settings, second):
    settings.GCS_BUCKET = ""
    with pytest.raises(CommandError, match="not published: GCS_BUCKET is not set"):
        run("publish_model", "second")


def test_list_models_remote_lists_published_versions(gcs_bucket, second):
    run("publish_model", "second")
    out = run("list_models", "--remote")
    assert f"gs://{gcs_bucket}/cleaninbox/models/second/" in out


# --- data and training errors ------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])


def test_download_data_names_a_missing_column(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    write_csv(source / "train.csv", ["text", "intent"], [["where is my card", "card_arrival"]])
    write_csv(source / "test.csv", ["text", "category"], [["where is my card", "card_arrival"]])

    with pytest.raises(CommandError, match="train.csv is missing column\\(s\\) 'category'"):
        run("download_data", source=str(source), data_dir=tmp_path / "data")


def test_download_data_suggests_the_published_name_for_a_misspelt_intent(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    write_csv(source / "train.csv", ["text", "category"], [["card?", "card_arival"]])
    write_csv(source / "test.csv", ["text", "category"], [["card?", "card_arrival"]])

    with pytest.raises(CommandError, match="did you mean 'card_arrival'"):
        run("download_data", source=str(source), data_dir=tmp_path / "data")


def test_train_model_names_an_unknown_config_key(banking77_dir):
    with pytest.raises(CommandError, match="unknown config key.*'epoch' \\(did you mean 'epochs'"):
        run("train_model", "--set", "epoch=1", data_dir=banking77_dir)


def test_train_model_lists_known_experiments_for_a_missing_config(banking77_dir):
    with pytest.raises(CommandError, match="no experiment config .*known experiments: .*minilm"):
        run("train_model", config="nope", data_dir=banking77_dir)


def test_train_model_without_data_points_to_download_data(tmp_path):
    with pytest.raises(CommandError, match="not trained: .*download_data"):
        run("train_model", "--set", "wandb=false", data_dir=tmp_path)


def test_train_model_reports_a_base_model_that_is_not_there(banking77_dir, tmp_path):
    with pytest.raises(CommandError, match="not trained: .*no-such-model"):
        run(
            "train_model", "--set", f"base_model={tmp_path / 'no-such-model'}",
            "--set", "wandb=false", data_dir=banking77_dir,
        )  # fmt: skip
    assert not ModelVersion.objects.exists()
