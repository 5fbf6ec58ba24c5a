"""mlops.distill, mlops.teacher, mlops.seeds, mlops.soup and refits (mlops.training.Refit):
tiny BERTs distilled for real on a slice of BANKING77 (two 3-epoch members make the
teacher; no mocks)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
from transformers import AutoModel, AutoTokenizer, MPNetConfig, MPNetModel

from classifier import artifact
from classifier.transformer import (
    PooledClassifier,
    batched_logits,
    pad_batch,
    resolve_base_model,
    tokenize,
)
from mlops import data, teacher
from mlops.config import PACKAGED_MINILM, ConfigError, apply_overrides, from_dict, load_config
from mlops.distill import distill, kd_loss, load_student, select_layers
from mlops.export import export_graph, export_onnx
from mlops.seeds import aggregate, spread
from mlops.tests.tiny_transformer import SHARED, build_tiny_base, write_small_banking77
from mlops.training import Refit, train

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="no local BANKING77 folder")


@pytest.fixture(autouse=True)
def _no_wandb(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    return build_tiny_base(tmp_path_factory.mktemp("tiny-bert-3"), layers=3)


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    return write_small_banking77(tmp_path_factory.mktemp("data") / "banking77")


@pytest.fixture(scope="module")
def tiny_config(tiny_base):
    return dataclasses.replace(
        load_config("minilm"),
        name="tiny",
        base_model=str(tiny_base),
        epochs=1,
        batch_size=16,
        learning_rate=1e-3,
        head_learning_rate=1e-3,
        freeze_word_embeddings=False,
        num_threads=1,
    )


@pytest.fixture(scope="module")
def members(tiny_config, small_data, tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("members")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANDB_MODE", "disabled")
        return [
            train(
                dataclasses.replace(tiny_config, seed=seed, epochs=3),
                small_data,
                out,
                progress=False,
            )  # fmt: skip
            for seed in (1, 2)
        ]


# --- layer selection ----------------------------------------------------------------------


def test_select_layers_keeps_the_chosen_layers_weights_and_saves_a_smaller_model(
    tiny_base, tmp_path
):
    encoder = AutoModel.from_pretrained(tiny_base)
    original = {k: v.clone() for k, v in encoder.state_dict().items()}
    model = PooledClassifier(encoder, 77)

    select_layers(model, [0, 2])
    model.encoder.save_pretrained(tmp_path)
    reloaded = AutoModel.from_pretrained(tmp_path).state_dict()

    assert model.encoder.config.num_hidden_layers == 2
    for new, old in ((0, 0), (1, 2)):
        for name, tensor in original.items():
            prefix = f"encoder.layer.{old}."
            if name.startswith(prefix):
                kept = f"encoder.layer.{new}." + name.removeprefix(prefix)
                torch.testing.assert_close(reloaded[kept], tensor)
    assert not any(k.startswith("encoder.layer.2.") for k in reloaded)
    torch.testing.assert_close(
        reloaded["embeddings.word_embeddings.weight"], original["embeddings.word_embeddings.weight"]
    )


def test_an_mpnet_cut_to_half_its_layers_reloads_and_exports_with_the_same_outputs(tmp_path):
    # A student cut from the mpnet teacher member (student_layers on an MPNet base): MPNet
    # keeps one relative-position bias for all its layers outside them, so a cut must leave
    # it shared, and the saved folder must load (and trace to ONNX) as an ordinary smaller
    # MPNet giving the cut model's logits.
    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model(PACKAGED_MINILM))
    config = MPNetConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=4,
        num_attention_heads=2, intermediate_size=64, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    model = PooledClassifier(MPNetModel(config), 77).eval()
    select_layers(model, [1, 3])
    model.encoder.save_pretrained(tmp_path / "cut")
    reloaded = PooledClassifier(AutoModel.from_pretrained(tmp_path / "cut"), 77).eval()
    reloaded.head.load_state_dict(model.head.state_dict())

    texts = ["my card has still not arrived", "why was I charged a fee for this transfer?"]
    ids, mask = pad_batch(tokenize(tokenizer, texts, 64), tokenizer.pad_token_id)
    with torch.no_grad():
        expected = model(ids, mask)
        torch.testing.assert_close(reloaded(ids, mask), expected)
    assert reloaded.encoder.config.num_hidden_layers == 2

    graph = export_graph(reloaded, tokenizer, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(graph), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})
    np.testing.assert_allclose(logits, expected.numpy(), atol=1e-4)


def test_select_layers_refuses_layers_the_encoder_lacks(tiny_base):
    model = PooledClassifier(AutoModel.from_pretrained(tiny_base), 77)
    with pytest.raises(ValueError, match="do not fit"):
        select_layers(model, [0, 3])


def test_student_layers_config_is_checked():
    config = load_config("minilm")
    assert config.layers() is None
    assert apply_overrides(config, ["student_layers=0,2,4,5"]).layers() == [0, 2, 4, 5]
    with pytest.raises(ConfigError, match="student_layers"):
        apply_overrides(config, ["student_layers=0,x"])
    with pytest.raises(ConfigError, match="kd_alpha"):
        apply_overrides(config, ["kd_alpha=1.5"])


def test_a_student_cut_from_a_trained_version_keeps_its_head(members, tiny_config, small_data):
    source = artifact.load(members[0])
    config = dataclasses.replace(tiny_config, base_model=str(members[0]), student_layers="0,2")

    _, student = load_student(config, data.load_labels(small_data))

    torch.testing.assert_close(student.head.weight, source.model.head.weight)
    assert len(student.encoder.encoder.layer) == 2


# --- the loss -----------------------------------------------------------------------------


def test_kd_loss_is_zero_when_the_student_matches_the_teacher_and_ignores_masked_rows():
    teacher_logits = torch.randn(4, 5)
    targets = torch.tensor([0, 1, 2, 3])

    matched = kd_loss(teacher_logits.clone(), teacher_logits, targets, 1.0, 2.0)
    wrong = kd_loss(-teacher_logits, teacher_logits, targets, 1.0, 2.0)
    masked = kd_loss(
        torch.cat([teacher_logits[:2], -teacher_logits[2:]]), teacher_logits, targets, 1.0, 2.0,
        kd_weight=torch.tensor([1.0, 1.0, 0.0, 0.0]),
    )  # fmt: skip

    assert matched.item() == pytest.approx(0.0, abs=1e-6)
    assert wrong.item() > 0.1
    assert masked.item() == pytest.approx(0.0, abs=1e-6)


def test_kd_alpha_zero_is_plain_cross_entropy():
    logits, targets = torch.randn(6, 5), torch.tensor([0, 1, 2, 3, 4, 0])
    loss = kd_loss(logits, torch.randn(6, 5), targets, 0.0, 3.0, label_smoothing=0.1)
    expected = torch.nn.functional.cross_entropy(logits, targets, label_smoothing=0.1)
    torch.testing.assert_close(loss, expected)


# --- the teacher and its cache ------------------------------------------------------------


def test_the_teacher_is_the_members_mean_calibrated_probability(members, small_data, tmp_path):
    out = teacher.ensemble(members, small_data, tmp_path)

    val_texts, _ = data.load_split(small_data, "validation")
    probs = [artifact.load(m).predict_proba(val_texts) for m in members]
    np.testing.assert_allclose(np.exp(out.validation), np.mean(probs, axis=0), atol=1e-5)
    assert out.train.shape == (len(data.load_split(small_data, "train")[0]), 77)


def test_teacher_outputs_are_cached_and_a_changed_manifest_invalidates_them(
    members, small_data, tmp_path
):
    cache = tmp_path / "cache"
    first = teacher.ensemble(members, small_data, cache)
    second = teacher.ensemble(members, small_data, cache, extra_texts=["where is my card"])
    refreshed = teacher.ensemble(members, small_data, cache, refresh=True)
    other_split = write_small_banking77(tmp_path / "other" / "banking77", train_per_label=5)
    other = teacher.ensemble(members, other_split, cache)

    assert first.cache_hits == 0
    assert second.cache_hits == 4  # 2 members x (train, validation)
    np.testing.assert_array_equal(first.train, second.train)
    assert second.extra.shape == (1, 77)
    assert refreshed.cache_hits == 0
    assert other.cache_hits == 0
    assert other.train.shape[0] == len(data.load_split(other_split, "train")[0])


def test_teacher_outputs_on_augmented_texts_are_cached_by_their_content(
    members, small_data, tmp_path
):
    cache = tmp_path / "cache"
    copies = ["where is my new card", "card not arrived yet", "i lost my card"]
    first = teacher.ensemble(members, small_data, cache, augmented_texts=copies)
    again = teacher.ensemble(members, small_data, cache, augmented_texts=copies)
    changed = teacher.ensemble(members, small_data, cache, augmented_texts=copies[:2])

    assert first.augmented.shape == (3, 77)
    assert first.cache_hits == 0
    assert again.cache_hits == 6  # 2 members x (train, validation, augmented)
    np.testing.assert_array_equal(first.augmented, again.augmented)
    assert changed.cache_hits == 4  # the other copies are scored afresh
    np.testing.assert_allclose(changed.augmented, first.augmented[:2], atol=1e-5)


def test_a_retrained_member_is_a_new_cache_key(members):
    assert teacher.member_key(members[0]) != teacher.member_key(members[1])


# --- distillation end to end ----------------------------------------------------------------


@pytest.fixture(scope="module")
def student(members, tiny_config, small_data, tmp_path_factory) -> Path:
    config = dataclasses.replace(
        tiny_config, name="tiny-student", student_layers="0,2", epochs=8, kd_alpha=1.0,
        linear_probe=False, kd_augment=1,
    )  # fmt: skip
    extra = [("my card still has not arrived after two weeks", "card_arrival")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANDB_MODE", "disabled")
        return distill(
            config, members, small_data, tmp_path_factory.mktemp("students"), extra,
            progress=False, cache_dir=tmp_path_factory.mktemp("cache"),
        )  # fmt: skip


def _kl_to_teacher(model, tokenizer, texts, teacher_logp) -> float:
    logits = batched_logits(model, tokenize(tokenizer, texts, 64), tokenizer.pad_token_id)
    student = torch.log_softmax(torch.from_numpy(logits), dim=1)
    target = torch.from_numpy(teacher_logp)
    return float((target.exp() * (target - student)).sum(dim=1).mean())


def test_distillation_brings_the_student_closer_to_the_teacher(
    student, members, tiny_config, small_data, tmp_path
):
    texts, _ = data.load_split(small_data, "train")
    teacher_out = teacher.ensemble(members, small_data, tmp_path)
    config = dataclasses.replace(tiny_config, student_layers="0,2")
    tokenizer, untrained = load_student(config, data.load_labels(small_data))
    trained = artifact.load(student)

    before = _kl_to_teacher(untrained, tokenizer, texts, teacher_out.train)
    after = _kl_to_teacher(trained.model, trained.tokenizer, texts, teacher_out.train)

    assert after < 0.7 * before


def test_a_student_is_an_ordinary_version_that_exports_to_int8(
    student, members, small_data, tmp_path
):
    model = artifact.load(student, expected_labels=data.load_labels(small_data))
    meta = model.metadata

    assert model.kind == "transformer"
    assert model.model.encoder.config.num_hidden_layers == 2
    assert meta["distillation"]["layers"] == [0, 2]
    assert meta["distillation"]["teacher"]["members"] == [m.name for m in members]
    assert meta["training_examples"] == len(data.load_split(small_data, "train")[0]) + 1
    assert meta["distillation"]["augmented_examples"] == len(
        data.load_split(small_data, "train")[0]
    )
    assert meta["threshold_rule"] and meta["temperature"] > 0

    exported = export_onnx(student, tmp_path, quantize=True, data_dir=small_data)

    onnx = artifact.load(exported, expected_labels=data.load_labels(small_data))
    assert onnx.kind == "onnx"
    assert onnx.metadata["exported_from"]["version"] == model.version


# --- seeds ----------------------------------------------------------------------------------


def test_spread_is_the_mean_and_sample_standard_deviation():
    s = spread([0.94, 0.95, 0.96])
    assert s.mean == pytest.approx(0.95)
    assert s.sd == pytest.approx(0.01)
    assert s.n == 3
    assert s.format() == "95.00 ± 1.00 (n=3)"
    assert spread([0.9]).sd == 0.0
    with pytest.raises(ValueError):
        spread([])


def test_aggregate_skips_runs_without_a_metric():
    spreads = aggregate([{"accuracy": 0.9, "ece": None}, {"accuracy": 0.8, "ece": 0.02}])
    assert spreads["accuracy"].mean == pytest.approx(0.85)
    assert spreads["ece"].n == 1


# --- through the commands -------------------------------------------------------------------


@pytest.mark.django_db
def test_train_model_with_a_teacher_registers_a_student_that_exports_and_promotes(
    members, tiny_base, small_data, settings, tmp_path
):
    from io import StringIO

    from django.core.management import call_command

    from mlops import registry

    def run(*args, **options) -> str:
        out = StringIO()
        call_command(*args, stdout=out, stderr=StringIO(), verbosity=0, **options)
        return out.getvalue()

    settings.CLEANINBOX_TEACHER_CACHE_DIR = tmp_path / "cache"
    registry.register(members[0])  # a teacher member by registered name, one by folder
    out = run(
        "train_model", "--config", "minilm-l3-distilled", "--set", f"base_model={tiny_base}",
        "--set", "name=tiny-l2", "--set", "student_layers=0,2", "--set", "epochs=1",
        "--set", "wandb=false", "--set", "num_threads=1", "--set", "max_length=32",
        "--teacher", members[0].name, "--teacher", str(members[1]), data_dir=small_data,
    )  # fmt: skip
    student = registry.get(out.split("Trained ")[1].split()[0])
    meta = student.metadata

    assert meta["distillation"]["teacher"]["members"] == [m.name for m in members]
    assert meta["distillation"]["encoder_layers"] == 2
    # 2 members x (train, validation, the augmented copies of train)
    assert len(list((tmp_path / "cache").glob("*/*.npy"))) == 6

    out = run("export_model", student.version, quantize=True, data_dir=small_data)
    assert out.startswith(f"Exported {student.version}-onnx-int8")
    out = run("promote_model", f"{student.version}-onnx-int8")
    assert out.startswith(f"Promoted {student.version}-onnx-int8 (onnx)")
    assert registry.active().metadata["distillation"]["layers"] == [0, 2]


def test_the_retrain_cycle_distils_a_student_from_the_configured_teacher_reusing_its_cache(
    transactional_db, members, small_data, settings, staff, tmp_path
):
    """Production is a cut student: each cycle of the loop distils the same recipe again
    with the agents' corrections, and the second cycle runs the teacher over none of the
    training queries (or their copies) again: only the corrections are new to it."""
    from inbox import services
    from inbox.tests.factories import EmailFactory
    from mlops import lineage, registry, retrain

    settings.CLEANINBOX_DATA_DIR = small_data
    settings.CLEANINBOX_TEACHER_CACHE_DIR = tmp_path / "cache"
    settings.CLEANINBOX_RETRAIN_CONFIG = "minilm-l3-distilled"
    settings.CLEANINBOX_RETRAIN_OVERRIDES = [
        f"base_model={members[0]}", "name=tiny-l2", "student_layers=0,2", "epochs=1",
        "kd_augment=1", "wandb=false", "num_threads=1", "max_length=32",
    ]  # fmt: skip
    registry.register(members[0])
    settings.CLEANINBOX_RETRAIN_TEACHER = [members[0].name, str(members[1])]
    registry.promote(registry.register(members[1]).version)

    def correct(text: str) -> None:
        email = EmailFactory(subject="", body_text=text)
        services.record_correction(email, "card_arrival", staff)

    def cycle() -> dict:
        _, run = retrain.run(force=True)
        assert run.status == "succeeded", run.error
        return registry.get(run.trained_version)

    correct("my new card still has not turned up after two weeks")
    first = cycle()
    correct("the replacement card you sent me never arrived, where is it")
    second = cycle()

    for student, corrections in ((first, 1), (second, 2)):
        made = student.metadata["distillation"]
        assert made["teacher"]["members"] == [m.name for m in members]
        assert made["encoder_layers"] == 2
        assert student.metadata["extra_examples"]["used"] == corrections
        assert lineage.of(student)["distilled_from"] == [m.name for m in members]
    # 2 members x (train, validation, copies of train): computed once, then read back
    assert first.metadata["distillation"]["teacher_cache_hits"] == 0
    assert second.metadata["distillation"]["teacher_cache_hits"] == 6


def test_a_retrain_whose_teacher_member_is_gone_fails_naming_it(
    transactional_db, active_model, members, small_data, settings
):
    from mlops import registry, retrain
    from mlops.models import RetrainRun

    settings.CLEANINBOX_DATA_DIR = small_data
    settings.CLEANINBOX_RETRAIN_TEACHER = [str(members[0]), "deleted-member"]
    with pytest.raises(registry.RegistryError, match="deleted-member"):
        retrain.run(force=True)
    run = RetrainRun.objects.get()
    assert run.status == "failed" and "deleted-member" in run.error and not run.trained_version


# --- model soups ------------------------------------------------------------------------------


def test_a_soup_is_the_members_weight_average_calibrated_as_a_new_version(
    members, small_data, tmp_path
):
    from mlops.soup import soup

    path = soup(members, small_data, tmp_path, name="tiny-soup", num_threads=1)
    model = artifact.load(path, expected_labels=data.load_labels(small_data))
    weights = [artifact.load(m).model.state_dict() for m in members]
    key = "head.weight"

    torch.testing.assert_close(
        model.model.state_dict()[key], (weights[0][key] + weights[1][key]) / 2
    )
    assert model.metadata["soup"]["kind"] == "uniform"
    assert model.metadata["soup"]["kept"] == sorted(m.name for m in members)
    assert model.metadata["best_epoch"] is None
    assert "threshold" in model.metadata and model.temperature > 0  # None: no safe threshold
    assert 0 < model.metadata["metrics"]["validation"]["accuracy"] <= 1
    assert model.predict(["where is my card"])[0].label in data.load_labels(small_data)


def test_a_greedy_soup_starts_from_the_best_member_and_keeps_only_what_helps(
    members, small_data, tmp_path
):
    from mlops.soup import soup

    path = soup(members, small_data, tmp_path, greedy=True, num_threads=1)
    info = artifact.read_metadata(path)["soup"]
    best = max(info["member_val_accuracy"], key=info["member_val_accuracy"].get)

    assert info["kind"] == "greedy"
    assert best in info["kept"]
    # It starts from the best member and adds one only if accuracy does not drop.
    soup_accuracy = artifact.read_metadata(path)["metrics"]["validation"]["accuracy"]
    assert soup_accuracy >= max(info["member_val_accuracy"].values()) - 1e-9


def test_members_of_different_shapes_make_no_soup(members, student, small_data, tmp_path):
    from mlops.soup import soup

    with pytest.raises(ValueError, match="another architecture"):
        soup([members[0], student], small_data, tmp_path, num_threads=1)
    with pytest.raises(ValueError, match="at least two"):
        soup(members[:1], small_data, tmp_path, num_threads=1)


@pytest.mark.django_db
def test_soup_models_registers_the_soup(members, small_data, settings, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from mlops import registry

    settings.CLEANINBOX_MODEL_DIR = tmp_path
    registry.register(members[0])
    out = StringIO()
    call_command("soup_models", members[0].name, str(members[1]), data_dir=small_data, stdout=out)
    version = out.getvalue().split(":")[0]

    assert registry.get(version).metadata["soup"]["members"] == [m.name for m in members]
    assert "2 of 2 member(s) averaged" in out.getvalue()


@pytest.mark.django_db
def test_lineage_names_a_soups_members_and_a_students_teacher(
    members, student, small_data, tmp_path
):
    from mlops import lineage, registry
    from mlops.soup import soup

    soup_row = registry.register(soup(members, small_data, tmp_path, num_threads=1))
    student_row = registry.register(student)

    assert ("soup of", ", ".join(sorted(m.name for m in members))) in lineage.describe(soup_row)
    assert ("teacher", ", ".join(m.name for m in members)) in lineage.describe(student_row)


def test_hidden_loss_is_zero_for_the_source_layers_and_grows_with_the_gap():
    from mlops.distill import hidden_loss

    torch.manual_seed(0)
    source = [torch.randn(2, 5, 8) for _ in range(7)]  # embeddings + 6 layers
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    student = [source[0], source[2], source[4], source[6]]  # layers 1, 3, 5 kept
    shifted = [student[0]] + [h + 0.5 for h in student[1:]]
    padding_only = [h.clone() for h in student]
    padding_only[1][0, 3:] += 100.0  # differs only on padding

    assert hidden_loss(student, source, [1, 3, 5], mask).item() == pytest.approx(0.0)
    assert hidden_loss(shifted, source, [1, 3, 5], mask).item() == pytest.approx(0.25)
    assert hidden_loss(padding_only, source, [1, 3, 5], mask).item() == pytest.approx(0.0)


def test_a_cut_student_with_the_hidden_loss_trains_and_says_so(
    members, tiny_config, small_data, tmp_path
):
    config = dataclasses.replace(
        tiny_config, name="tiny-hidden", base_model=str(members[0]), student_layers="0,2",
        kd_hidden=1.0, linear_probe=False,
    )  # fmt: skip
    path = distill(config, members, small_data, tmp_path / "m", progress=False, cache_dir=tmp_path)

    assert artifact.read_metadata(path)["distillation"]["kd_hidden"] == 1.0
    with pytest.raises(ValueError, match="needs student_layers"):
        distill(
            dataclasses.replace(config, student_layers=""), members, small_data, tmp_path / "m",
            progress=False, cache_dir=tmp_path,
        )  # fmt: skip


# --- refit on train + validation --------------------------------------------------------------


def _validation_nll(path: Path, small_data: Path) -> float:
    model = artifact.load(path)
    texts, names = data.load_split(small_data, "validation")
    proba = model.predict_proba(texts)
    rows = [model.labels.index(name) for name in names]
    return float(-np.log(proba[np.arange(len(rows)), rows] + 1e-12).mean())


@pytest.fixture(scope="module")
def refit_member(members, small_data, tmp_path_factory) -> Path:
    refit = Refit.of(members[0])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANDB_MODE", "disabled")
        return train(
            refit.experiment(), small_data, tmp_path_factory.mktemp("refits"),
            progress=False, refit=refit,
        )  # fmt: skip


def test_a_refit_learns_validation_for_the_source_best_epoch_and_keeps_its_calibration(
    refit_member, members, small_data
):
    source, meta = artifact.read_metadata(members[0]), artifact.read_metadata(refit_member)
    n_train = len(data.load_split(small_data, "train")[0])
    n_val = len(data.load_split(small_data, "validation")[0])

    assert meta["refit"]["of"] == source["version"]
    assert meta["training_examples"] == n_train + n_val
    assert [r["epoch"] for r in meta["history"]] == list(range(1, source["best_epoch"] + 1))
    assert all(r["val_accuracy"] is None for r in meta["history"])  # nothing held out to score
    for key in ("temperature", "threshold", "threshold_rule", "energy_limit"):
        assert meta[key] == source[key]
    assert meta["metrics"]["validation"] == source["metrics"]["validation"]
    # It learnt the validation queries: its loss on them falls below the source's.
    assert _validation_nll(refit_member, small_data) < _validation_nll(members[0], small_data)


def test_only_a_held_out_transformer_run_can_be_refit(refit_member, members, small_data, tmp_path):
    from mlops.soup import soup

    with pytest.raises(ValueError, match="already a refit"):
        Refit.of(refit_member)
    with pytest.raises(ValueError, match="no best epoch"):
        Refit.of(soup(members, small_data, tmp_path, num_threads=1))
    with pytest.raises(ValueError, match="learnt the validation split"):
        soup([members[1], refit_member], small_data, tmp_path, num_threads=1)


def test_a_student_of_refit_teachers_must_be_a_refit_itself(
    refit_member, members, student, small_data, tmp_path
):
    config = from_dict(artifact.read_metadata(student)["config"])
    teachers = [refit_member, members[1]]
    with pytest.raises(ValueError, match="learnt the validation split"):
        distill(config, teachers, small_data, tmp_path / "m", progress=False, cache_dir=tmp_path)

    path = distill(
        config, teachers, small_data, tmp_path / "m", progress=False, cache_dir=tmp_path,
        refit=Refit.of(student),
    )  # fmt: skip
    meta = artifact.read_metadata(path)
    n_labelled = sum(len(data.load_split(small_data, s)[0]) for s in ("train", "validation"))

    assert meta["refit"]["of"] == student.name
    assert meta["distillation"]["teacher_val_accuracy"] is None  # not held out
    assert meta["training_examples"] == n_labelled
    assert meta["distillation"]["augmented_examples"] == n_labelled * config.kd_augment


@pytest.mark.django_db
def test_train_model_refit_registers_the_refit_and_lineage_names_its_source(
    members, small_data, settings, tmp_path
):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from mlops import lineage, registry

    settings.CLEANINBOX_MODEL_DIR = tmp_path
    out = StringIO()
    call_command("train_model", "--refit", str(members[1]), "--set", "wandb=false",
                 data_dir=small_data, stdout=out, verbosity=0)  # fmt: skip
    row = registry.get(out.getvalue().split("Trained ")[1].split()[0])

    assert f"Refit of {members[1].name}" in out.getvalue()
    assert row.metadata["config"]["seed"] == artifact.read_metadata(members[1])["config"]["seed"]
    assert ("refit (train + validation) of", members[1].name) in lineage.describe(row)
    with pytest.raises(CommandError, match="already a refit"):
        call_command("train_model", "--refit", row.version, data_dir=small_data, stdout=out)
