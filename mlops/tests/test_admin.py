"""The ModelVersion admin: list, promote one, roll back; failures as messages, not 500s."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from mlops import lifecycle, registry
from mlops.models import ModelVersion
from mlops.tests.artifacts import copy_version, corrupt

pytestmark = pytest.mark.django_db

URL = reverse("admin:mlops_modelversion_changelist")


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def second(active_model, baseline_artifact, settings) -> ModelVersion:
    return registry.register(
        copy_version(baseline_artifact, settings.CLEANINBOX_MODEL_DIR, "second")
    )


def run_action(client, action: str, *rows: ModelVersion) -> list[str]:
    response = client.post(
        URL, {"action": action, "_selected_action": [r.pk for r in rows]}, follow=True
    )
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_list_shows_versions_with_stage_and_accuracy(admin_client, second, active_model):
    page = admin_client.get(URL).content.decode()

    assert "second" in page and active_model.version in page
    assert f"{active_model.validation_accuracy:.1%}" in page
    assert "Production" in page and "Candidate" in page


def test_promote_action_switches_the_serving_version(admin_client, second):
    messages = run_action(admin_client, "promote_to_production", second)

    assert messages == ["second now serves; workers switch on their next batch."]
    assert registry.active().version == "second"


def test_promote_action_wants_exactly_one_version(admin_client, second, active_model):
    messages = run_action(admin_client, "promote_to_production", second, active_model)

    assert messages == ["Select exactly one version to promote."]
    assert registry.active().version == active_model.version


def test_promote_action_reports_an_unusable_artifact_as_an_error(
    admin_client, second, active_model
):
    corrupt(registry.local_path(second))

    messages = run_action(admin_client, "promote_to_production", second)

    assert len(messages) == 1 and "second not promoted: checksum mismatch" in messages[0]
    assert registry.active().version == active_model.version


def test_roll_back_action_restores_the_previous_version(admin_client, second, active_model):
    lifecycle.promote("second")

    messages = run_action(admin_client, "roll_back", second)

    assert messages == [f"Rolled back: {active_model.version} serves again."]
    assert registry.active().version == active_model.version


def test_roll_back_action_without_history_explains_why(admin_client, active_model):
    messages = run_action(admin_client, "roll_back", active_model)

    assert messages == ["Not rolled back: no earlier production version to roll back to"]


def test_the_serving_version_cannot_be_deleted(admin_client, active_model):
    url = reverse("admin:mlops_modelversion_delete", args=[active_model.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert ModelVersion.objects.filter(pk=active_model.pk).exists()
