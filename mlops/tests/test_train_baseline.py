"""`manage.py train_baseline`: the first-run model."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from mlops import registry
from mlops.models import ModelVersion

pytestmark = pytest.mark.django_db


def test_it_trains_evaluates_and_promotes_a_calibrated_baseline(banking77_dir, settings):
    out = StringIO()
    call_command(
        "train_baseline",
        data_dir=banking77_dir,
        evaluate=True,
        promote=True,
        stdout=out,
        verbosity=0,
    )
    active = registry.active()
    assert active is not None and active.kind == "tfidf"
    assert active.validation_metrics["accuracy"] > 0.88
    assert active.test_metrics["accuracy"] > 0.88  # measured on the held-out test split
    assert 0 < active.threshold < 1
    assert "stage production" in out.getvalue()
    assert (settings.CLEANINBOX_REPORTS_DIR / active.version / "confusion_matrix.png").is_file()


def test_with_if_no_active_it_leaves_a_serving_model_alone(active_model, banking77_dir):
    out = StringIO()
    call_command(
        "train_baseline", data_dir=banking77_dir, if_no_active=True, promote=True, stdout=out
    )
    assert ModelVersion.objects.count() == 1
    assert registry.active().version == active_model.version
    assert "baseline not needed" in out.getvalue()
