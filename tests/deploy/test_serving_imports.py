"""The serving image installs the core dependencies only (no torch, transformers, datasets,
wandb: the `train` extra). These tests hold the web and worker code to that:
everything a web or worker process imports, and serving a TF-IDF or an ONNX version, must
work without the training packages, checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib

from conftest import REPO

TRAINING_ONLY = ["torch", "transformers", "datasets", "wandb", "safetensors", "onnx"]

SERVING_PROCESS = textwrap.dedent(
    """
    import importlib, json, os, sys
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cleaninbox.settings")
    import django
    django.setup()
    from django.urls import get_resolver
    get_resolver().url_patterns                       # every view module (web process)
    from cleaninbox.celery import app
    app.loader.import_default_modules()               # every task module (worker process)
    from django.core.management import get_commands, load_command_class
    for name in [
        "migrate", "ensure_admin", "download_data", "train_baseline", "promote_model",
        "list_models", "pull_model", "import_emails", "poll_imap", "evaluate_model",
    ]:
        load_command_class(get_commands()[name], name)
    import classifier.baseline, classifier.onnx_model  # the kinds a serving image loads
    print(json.dumps(sorted(m for m in sys.modules if "." not in m)))
    """
)


def test_web_and_worker_processes_import_no_training_package():
    out = subprocess.run(
        [sys.executable, "-c", SERVING_PROCESS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert {"django", "celery", "onnxruntime", "sklearn"} <= loaded
    assert not loaded & set(TRAINING_ONLY), f"serving imports {sorted(loaded & set(TRAINING_ONLY))}"


def test_the_training_packages_are_an_extra_not_core_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    core = {
        d.split("[")[0].split("=")[0].split(">")[0].split("<")[0] for d in project["dependencies"]
    }
    train = {
        d.split("=")[0].split(">")[0].split("<")[0]
        for d in project["optional-dependencies"]["train"]
    }
    assert {"torch", "transformers", "datasets", "wandb"} <= train
    assert not core & train
    assert {"onnxruntime", "tokenizers", "scikit-learn"} <= core
