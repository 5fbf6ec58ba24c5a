"""An email's explanation through the API and the email page: computed once per (email,
model version) with the real baseline, neighbours once the version's index is built,
flags, and the no-model and not-classified answers."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from classifier import explanations, runtime
from inbox.models import Email, Explanation, ExplanationFlag
from inbox.tests.factories import EmailFactory

TEXT = "The ATM swallowed my card this morning, what should I do?"


@pytest.fixture
def classified(db):
    return EmailFactory(
        subject="ATM", body_text=TEXT, model_input=TEXT, status=Email.Status.CLASSIFIED,
        intent="card_swallowed", predicted_intent="card_swallowed", confidence=0.97,
        model_version="tfidf-older", classified_at=timezone.now(),
    )  # fmt: skip


@pytest.fixture
def indexed(active_model, banking77_dir, settings):
    settings.CLEANINBOX_DATA_DIR = banking77_dir
    call_command("build_explanation_index", verbosity=0)
    assert explanations.index_path(active_model.version).is_file()
    return active_model


def url(email) -> str:
    return reverse("classifier:api-explanation", args=[email.pk])


def test_the_api_explains_with_words_and_neighbours_then_answers_from_the_cache(
    api_client, classified, indexed
):
    first = api_client.get(url(classified))
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["label"] == "card_swallowed" and body["model_version"] == indexed.version
    assert body["email_model_version"] == "tfidf-older" and body["cached"] is False
    assert body["top_words"][0]["text"] in {"ATM", "swallowed"}
    assert "".join(p["text"] for p in body["pieces"]) == TEXT
    assert len(body["neighbours"]) == 5
    assert sum(n["agrees"] for n in body["neighbours"]) >= 3
    assert Explanation.objects.filter(email=classified, model_version=indexed.version).count() == 1

    # The second look reads the stored row; the model is not asked again.
    model = runtime.active_classifier()
    calls = []
    original = model.logits
    model.logits = lambda texts: calls.append(len(texts)) or original(texts)
    try:
        second = api_client.get(url(classified)).json()
    finally:
        del model.logits
    assert calls == [] and second["cached"] is True
    assert second["pieces"] == body["pieces"] and second["neighbours"] == body["neighbours"]


def test_without_the_index_words_come_alone_a_build_is_queued_and_nothing_is_cached(
    api_client, classified, active_model
):
    cache.delete(f"explain-index-requested:{active_model.version}")
    body = api_client.get(url(classified)).json()
    assert body["neighbours"] is None and body["top_words"]
    assert cache.get(f"explain-index-requested:{active_model.version}") == 1
    assert not Explanation.objects.exists()


def test_a_worker_builds_the_queued_index_and_the_next_look_has_neighbours(
    celery_worker, api_client, classified, active_model, banking77_dir, settings
):
    from tests.helpers import wait_for

    settings.CLEANINBOX_DATA_DIR = banking77_dir
    cache.delete(f"explain-index-requested:{active_model.version}")
    assert api_client.get(url(classified)).json()["neighbours"] is None
    assert wait_for(lambda: explanations.index_path(active_model.version).is_file(), 90)
    body = api_client.get(url(classified)).json()
    assert len(body["neighbours"]) == 5 and body["cached"] is False
    assert api_client.get(url(classified)).json()["cached"] is True


def test_a_new_model_version_explains_anew(api_client, classified, indexed, baseline_artifact):
    api_client.get(url(classified))
    Explanation.objects.update(model_version="an-older-version")
    body = api_client.get(url(classified)).json()
    assert body["cached"] is False
    assert set(Explanation.objects.values_list("model_version", flat=True)) == {
        "an-older-version",
        indexed.version,
    }


def test_no_model_and_unclassified_emails_get_a_clear_answer(api_client, classified, db):
    response = api_client.get(url(classified))
    assert response.status_code == 503
    assert response.json()["code"] == "no_model" and "No model" in response.json()["detail"]
    pending = EmailFactory(status=Email.Status.PENDING)
    assert api_client.get(url(pending)).status_code == 409
    assert api_client.get(reverse("classifier:api-explanation", args=[999999])).status_code == 404


def test_an_agent_flags_an_explanation_through_the_api(api_client, classified, active_model):
    flags = reverse("classifier:api-explanation-flags", args=[classified.pk])
    response = api_client.post(flags, {"reason": "it highlights 'the'"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["model_version"] == active_model.version
    row = ExplanationFlag.objects.get()
    assert (row.email, row.user.username, row.reason) == (
        classified,
        "agent",
        "it highlights 'the'",
    )
    too_long = api_client.post(flags, {"reason": "x" * 1001}, format="json")
    assert too_long.status_code == 400
    assert api_client.post(flags, {"reason": "a\x00b"}, format="json").status_code == 400
    spaced = api_client.post(flags, {"model_version": " v9 ", "reason": " "}, format="json")
    assert spaced.status_code == 201 and spaced.json()["model_version"] == "v9"
    assert api_client.get(url(classified)).json()["flags"] == 1  # the one for this version


def test_the_schema_documents_the_explanation(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    get = schema["paths"]["/api/emails/{id}/explanation/"]["get"]
    assert {"200", "404", "409", "503"} <= set(get["responses"])
    assert "neighbours" in schema["components"]["schemas"]["Explanation"]["properties"]
    flag_in = schema["components"]["schemas"]["FlagInRequest"]["properties"]
    assert flag_in["reason"]["maxLength"] == 1000 and "pattern" in flag_in["reason"]
    assert flag_in["reason"]["minLength"] == 1


# --- the email page ---------------------------------------------------------------------


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


def test_the_email_page_loads_the_panel_on_demand_only(logged_in, classified, active_model):
    page = logged_in.get(reverse("inbox:email", args=[classified.pk])).content.decode()
    assert 'id="explanation"' in page and 'hx-trigger="toggle once"' in page
    assert not Explanation.objects.exists()  # opening the email computes nothing


def test_the_panel_highlights_words_and_lists_neighbours(logged_in, classified, indexed):
    response = logged_in.get(reverse("classifier:explanation", args=[classified.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="weight is-top"' in html and ">ATM</mark>" in html
    assert 'id="neighbours"' in html and "Card swallowed" in html
    assert 'name="model_version" value="' + indexed.version in html


def test_the_panel_says_so_when_no_model_serves(logged_in, classified):
    html = logged_in.get(reverse("classifier:explanation", args=[classified.pk])).content.decode()
    assert 'id="explain-unavailable"' in html and "No model is serving" in html


def test_flagging_from_the_page_thanks_the_agent_and_the_admin_counts_it(
    logged_in, classified, active_model, client, staff
):
    flag_url = reverse("classifier:explanation-flag", args=[classified.pk])
    response = logged_in.post(
        flag_url, {"model_version": active_model.version, "reason": "odd"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'id="explain-flagged"' in response.content.decode()
    assert logged_in.post(flag_url, {"model_version": ""}).status_code == 400
    client.force_login(staff)
    admin = client.get(reverse("admin:inbox_explanationflag_changelist")).content.decode()
    assert "odd" in admin and active_model.version in admin
