"""mlops.training and mlops.config: a tiny BERT trained for real on a slice of BANKING77."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from classifier import artifact
from mlops import data
from mlops.config import ConfigError, ExperimentConfig, apply_overrides, load_config
from mlops.tests.tiny_transformer import SHARED, build_tiny_base, write_small_banking77
from mlops.training import _new_version, clean_extra_examples, length_bucketed_batches, train

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="no local BANKING77 folder")


@pytest.fixture(autouse=True)
def _no_wandb(monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    return build_tiny_base(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    return write_small_banking77(tmp_path_factory.mktemp("data") / "banking77")


@pytest.fixture(scope="module")
def tiny_config(tiny_base) -> ExperimentConfig:
    return dataclasses.replace(
        load_config("minilm"),
        name="tiny",
        base_model=str(tiny_base),
        epochs=1,
        batch_size=16,
        learning_rate=1e-3,
        head_learning_rate=1e-3,
        freeze_word_embeddings=False,
        # One thread: tiny matrices gain nothing from two, and lose a lot when the
        # machine is busy and the second thread waits for a core at every op.
        num_threads=1,
    )


@pytest.fixture(scope="module")
def test_texts(small_data) -> list[str]:
    return data.load_split(small_data, "test")[0]


@pytest.fixture(scope="module")
def trained(tiny_config, small_data, test_texts, tmp_path_factory) -> Path:
    extra = [
        (f"  {test_texts[0].upper()} ", "card_arrival"),  # a test query in disguise: dropped
        ("my card is still not here after ten days", "card_arrival"),
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WANDB_MODE", "disabled")
        return train(
            tiny_config, small_data, tmp_path_factory.mktemp("models"), extra, progress=False
        )


def test_it_writes_a_loadable_calibrated_artifact(trained, small_data, test_texts):
    model = artifact.load(trained, expected_labels=data.load_labels(small_data))

    probs = model.predict_proba(test_texts[:20])

    assert model.kind == "transformer"
    assert model.version.startswith("tiny-")
    assert model.labels == data.BANKING77_LABELS
    assert probs.shape == (20, 77)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    assert model.metadata["temperature"] > 0
    assert model.temperature == model.metadata["temperature"]
    validation = model.metadata["metrics"]["validation"]
    assert validation["n"] == len(data.load_split(small_data, "validation")[0])
    assert 0.0 <= validation["accuracy"] <= 1.0
    assert model.metadata["transformer"] == {"pooling": "mean", "max_length": 64}
    assert (
        model.metadata["data_manifest_sha256"] == data.read_manifest(small_data)["manifest_sha256"]
    )
    assert [row["epoch"] for row in model.metadata["history"]] == [1]
    assert set(model.metadata["linear_probe"]) == {"val_accuracy", "val_macro_f1"}


def test_it_learns_something_in_one_epoch(trained, small_data):
    # 77 intents: chance is 1.3%; even a tiny random BERT with a linear probe does better.
    assert artifact.read_metadata(trained)["metrics"]["validation"]["accuracy"] > 0.1


def test_extra_examples_that_repeat_a_test_query_are_dropped(trained, small_data):
    meta = artifact.read_metadata(trained)
    train_rows = len(data.load_split(small_data, "train")[0])

    assert meta["extra_examples"] == {"used": 1, "dropped_in_test": 1, "dropped_blank": 0}
    assert meta["training_examples"] == train_rows + 1


def test_the_same_seed_gives_the_same_model(trained, tiny_config, small_data, test_texts, tmp_path):
    extra = [("my card is still not here after ten days", "card_arrival")]
    # Into the same directory: a second run (even within the same second) is a new version.
    again = train(tiny_config, small_data, Path(trained).parent, extra, progress=False)

    first = artifact.load(trained).predict_proba(test_texts)
    second = artifact.load(again).predict_proba(test_texts)

    assert Path(again).name != Path(trained).name
    np.testing.assert_allclose(first, second, atol=1e-6)


def test_an_unknown_label_in_extra_examples_is_an_error():
    with pytest.raises(ValueError, match="not_an_intent"):
        clean_extra_examples([("hello", "not_an_intent")], ["card_arrival"], [])


def test_length_bucketed_batches_cover_every_row_once():
    lengths = list(np.random.default_rng(0).integers(3, 60, size=1000))

    batches = length_bucketed_batches(lengths, 32, np.random.default_rng(1))

    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    assert max(len(b) for b in batches) == 32
    # similar lengths per batch: far less spread than a random batch of 3..60
    assert np.median([np.ptp([lengths[i] for i in b]) for b in batches]) <= 5


# --- config -----------------------------------------------------------------------------


def test_the_default_experiment_loads_offline():
    config = load_config("minilm")

    assert config.name == "minilm"
    assert config.base_model == "packaged:all-MiniLM-L6-v2"
    assert isinstance(config.learning_rate, float)
    assert load_config("tinybert").base_model == "huawei-noah/TinyBERT_General_4L_312D"


def test_overrides_are_typed_by_the_field():
    config = apply_overrides(
        ExperimentConfig(), ["epochs=3", "learning_rate=1e-4", "wandb=false", "pooling=cls"]
    )

    assert (config.epochs, config.learning_rate, config.wandb, config.pooling) == (
        3,
        1e-4,
        False,
        "cls",
    )


def test_an_unknown_override_key_is_named_in_the_error():
    with pytest.raises(ConfigError, match=r"'learning_rat' \(did you mean 'learning_rate'\?\)"):
        apply_overrides(ExperimentConfig(), ["learning_rat=1e-4"])


def test_an_unknown_key_in_the_yaml_file_is_named_in_the_error(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("epochs: 2\nlabel_smooth: 0.1\n")

    with pytest.raises(ConfigError, match="label_smooth"):
        load_config(path)


@pytest.mark.parametrize(
    "override",
    [
        "epochs=two",
        "epochs=1.5",
        "wandb=maybe",
        "pooling=max",
        "dropout=1.5",
        "epochs",
        "adv_epsilon=-1",
        "ema_decay=1",
    ],
)
def test_bad_override_values_are_rejected(override):
    with pytest.raises(ConfigError):
        apply_overrides(ExperimentConfig(), [override])


def test_a_missing_experiment_lists_the_known_ones():
    with pytest.raises(ConfigError, match="minilm"):
        load_config("no-such-experiment")


def test_runs_started_in_the_same_second_claim_different_version_names(tmp_path):
    # Neither has written its folder yet (training takes minutes): the claim alone separates them.
    names = {_new_version("minilm", tmp_path) for _ in range(3)}

    assert len(names) == 3
    assert all(name.startswith("minilm-") for name in names)


def _batch(tiny_base, dropout):
    import torch

    from classifier.transformer import load_base, pad_batch, tokenize

    tokenizer, model = load_base(str(tiny_base), 77, "mean", dropout)
    ids = tokenize(tokenizer, ["where is my card", "i lost my card", "exchange rate"], 32)
    input_ids, mask = pad_batch(ids, tokenizer.pad_token_id)
    return model.train(), input_ids, mask, torch.tensor([0, 1, 2])


def test_rdrop_without_dropout_is_plain_cross_entropy(tiny_base, tiny_config):
    import torch

    from mlops.training import rdrop_loss

    model, input_ids, mask, targets = _batch(tiny_base, dropout=0.0)
    config = dataclasses.replace(tiny_config, rdrop_alpha=5.0, bf16=False)
    for module in model.modules():  # the encoder's own dropout layers too
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0

    plain = torch.nn.functional.cross_entropy(
        model(input_ids, mask), targets, label_smoothing=config.label_smoothing
    )
    assert rdrop_loss(model, input_ids, mask, targets, config).item() == pytest.approx(
        plain.item(), abs=1e-5
    )


def test_rdrop_penalises_two_dropout_passes_that_disagree(tiny_base, tiny_config):
    import torch

    from mlops.training import rdrop_loss

    model, input_ids, mask, targets = _batch(tiny_base, dropout=0.3)
    losses = {}
    for alpha in (0.0, 1.0):
        torch.manual_seed(0)  # the same dropout masks for both
        config = dataclasses.replace(tiny_config, rdrop_alpha=alpha, bf16=False)
        losses[alpha] = rdrop_loss(model, input_ids, mask, targets, config).item()

    assert losses[1.0] > losses[0.0] + 1e-4
    with pytest.raises(ConfigError, match="rdrop_alpha"):
        apply_overrides(tiny_config, ["rdrop_alpha=-1"])


def _recorded_loss(model, input_ids, mask, targets, seen):
    import torch

    def loss():
        value = torch.nn.functional.cross_entropy(model(input_ids, mask), targets)
        seen.append(value.item())
        return value

    return loss


def test_the_adversarial_pass_goes_uphill_and_adds_its_gradient(tiny_base):
    import torch

    from mlops.training import adversarial_backward

    model, input_ids, mask, targets = _batch(tiny_base, dropout=0.0)
    model.eval()  # no dropout anywhere: the two passes differ by the shift alone
    model.encoder.get_input_embeddings().weight.requires_grad_(False)  # as in training
    before = model(input_ids, mask).detach()

    def head_grad(epsilon):
        model.zero_grad(set_to_none=True)
        seen = []
        clean = adversarial_backward(
            model, _recorded_loss(model, input_ids, mask, targets, seen), epsilon
        )
        assert clean.item() == pytest.approx(seen[0])
        return seen, model.head.weight.grad.clone()

    seen, shifted = head_grad(1.0)
    assert seen[1] > seen[0] + 1e-3  # the shift is the direction that hurts
    model.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model(input_ids, mask), targets).backward()
    plain = model.head.weight.grad.clone()
    # A vanishing shift repeats the clean pass: twice its gradient; a real one differs.
    assert torch.allclose(head_grad(1e-6)[1], 2 * plain, atol=1e-5)
    assert not torch.allclose(shifted, 2 * plain, atol=1e-3)
    # The shift does not outlive the step.
    assert torch.equal(model(input_ids, mask).detach(), before)


def _tiny_fine_tune(tiny_base, small_data, config, validated=False, freeze=False):
    """One short fine-tuning run of the tiny BERT on the small BANKING77 slice, from seed 0:
    the model, its head weights and its word embeddings as they were before training."""
    from classifier.transformer import load_base, tokenize
    from mlops.training import fine_tune, seed_everything

    names = data.load_labels(small_data)
    splits = {}
    for split in ("train", "validation"):
        texts, labels = data.load_split(small_data, split)
        splits[split] = (texts, np.array([names.index(label) for label in labels]))
    seed_everything(0)
    tokenizer, model = load_base(str(tiny_base), len(names), "mean", 0.1)
    embeddings = model.encoder.get_input_embeddings().weight
    embeddings.requires_grad_(not freeze)
    start = (model.head.weight.detach().clone(), embeddings.detach().clone())
    train_ids = tokenize(tokenizer, splits["train"][0], 32)
    val = (tokenize(tokenizer, splits["validation"][0], 32), splits["validation"][1])
    fine_tune(
        model, train_ids, splits["train"][1], *(val if validated else (None, None)),
        tokenizer.pad_token_id, dataclasses.replace(config, bf16=False), progress=False,
        stop_after=1,
    )  # fmt: skip
    return model, *start


def test_adversarial_training_leaves_frozen_embeddings_alone(tiny_base, tiny_config, small_data):
    import torch

    weights = {}
    for epsilon in (0.0, 1.0):
        config = dataclasses.replace(tiny_config, adv_epsilon=epsilon)
        model, _, frozen = _tiny_fine_tune(tiny_base, small_data, config, freeze=True)
        assert torch.equal(model.encoder.get_input_embeddings().weight, frozen)
        weights[epsilon] = model.head.weight.detach().clone()
    assert not torch.allclose(weights[0.0], weights[1.0])


@pytest.mark.parametrize("validated", [True, False], ids=["scored", "refit"])
def test_with_ema_the_run_returns_the_average_not_the_last_step(
    tiny_base, tiny_config, small_data, validated, caplog
):
    moved = {}
    for decay in (0.0, 0.999999):  # asked for an average that would hardly leave its start
        config = dataclasses.replace(tiny_config, ema_decay=decay)
        model, start, _ = _tiny_fine_tune(tiny_base, small_data, config, validated)
        moved[decay] = (model.head.weight.detach() - start).abs().max().item()
    assert moved[0.0] > 1e-3
    # What comes back is the average: nearer the start than the last step, but (the decay
    # capped at half the run's length) not stuck at the start of so short a run.
    assert moved[0.0] / 5 < moved[0.999999] < moved[0.0] * 0.9
    # A scored run also says what the same epoch's own weights score, for comparison.
    assert ("without the average" in caplog.text) == validated
