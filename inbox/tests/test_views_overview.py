"""The overview page and the evaluation images it shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.models import Correction, Email
from inbox.tests.factories import EmailFactory
from mlops.models import ModelVersion

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


def production(**kw) -> ModelVersion:
    return ModelVersion.objects.create(
        version=kw.pop("version", "tfidf-1"), kind="tfidf", stage=ModelVersion.Stage.PRODUCTION,
        promoted_at=timezone.now(), **kw,
    )  # fmt: skip


def test_without_a_model_the_overview_says_so(logged_in):
    html = logged_in.get(reverse("inbox:overview")).content.decode()
    assert "No model is in production" in html
    assert "No emails received in the last 14 days." in html


def test_a_model_without_test_metrics_is_not_evaluated_yet(logged_in):
    production(threshold=0.6)
    html = logged_in.get(reverse("inbox:overview")).content.decode()
    assert '<code id="model-version">tfidf-1</code>' in html
    assert "not evaluated yet" in html
    assert "60%" in html  # the review threshold it routes with


def test_the_model_card_shows_test_accuracy(logged_in):
    production(test_metrics={"accuracy": 0.8734}, validation_metrics={"accuracy": 0.88})
    html = logged_in.get(reverse("inbox:overview")).content.decode()
    assert '<dd id="model-accuracy">87.3%</dd>' in html
    assert "not evaluated yet" not in html


def test_volume_routing_and_agreement_figures(logged_in, agent):
    production(version="v1", threshold=0.5)
    now = timezone.now()
    for conf in (0.9, 0.8, 0.7):
        EmailFactory(
            intent="card_arrival",
            predicted_intent="card_arrival",
            confidence=conf,
            status=Email.Status.CLASSIFIED,
            model_version="v1",
            classified_at=now,
        )
    review = EmailFactory(
        intent="atm_support",
        predicted_intent="atm_support",
        confidence=0.2,
        status=Email.Status.NEEDS_REVIEW,
        model_version="v1",
        classified_at=now,
    )
    EmailFactory(received_at=now - timedelta(days=30))  # outside the window
    Correction.objects.create(email=review, new_intent="atm_support", model_intent="atm_support")
    Correction.objects.create(email=review, new_intent="card_swallowed", model_intent="atm_support")
    html = logged_in.get(reverse("inbox:overview")).content.decode()
    assert '<span class="kpi-value" id="kpi-received">4</span>' in html
    assert '<span class="kpi-value" id="kpi-routed">75%</span>' in html
    assert "3 routed, 1 sent to review" in html
    assert '<span class="kpi-value" id="kpi-agreement">50%</span>' in html
    assert "1 of 2 agent decisions" in html
    assert "<svg" in html and " · Cards: 3</title>" in html  # per-day chart, stacked by family
    assert '<a href="/folders/card_arrival/">Card arrival</a>' in html
    assert '<td class="num">3</td>' in html and '<td class="num">75%</td>' in html


def test_evaluation_images_are_shown_and_served_to_logged_in_users(logged_in, client, settings):
    production(version="v2")
    folder = settings.CLEANINBOX_REPORTS_DIR / "v2"
    folder.mkdir(parents=True)
    (folder / "confusion_matrix.png").write_bytes(PNG)
    (folder / "reliability.png").write_bytes(PNG)
    html = logged_in.get(reverse("inbox:overview")).content.decode()
    assert "/overview/reports/v2/confusion_matrix.png" in html
    assert "/overview/reports/v2/reliability.png" in html
    assert "/overview/reports/v2/selective.png" not in html  # not written: not shown
    response = logged_in.get(reverse("inbox:report-image", args=["v2", "reliability"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    logged_in.logout()
    assert client.get(reverse("inbox:report-image", args=["v2", "reliability"])).status_code == 302


def test_report_urls_cannot_leave_the_reports_folder(logged_in, settings):
    secret = settings.CLEANINBOX_REPORTS_DIR / "reliability.png"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(PNG)
    for version, name in [("..", "reliability"), ("v2", "secret"), ("%2e%2e", "reliability")]:
        url = f"/overview/reports/{version}/{name}.png"
        assert logged_in.get(url).status_code == 404, url


def test_untrusted_text_never_reaches_the_chart_unescaped():
    from inbox import charts

    svg = charts.stacked_bars(["<x>"], [charts.Series("<script>", [3], "#000")])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;x&gt;" in svg


def test_the_model_card_shows_the_routing_promise_and_what_test_measured(logged_in):
    production(
        threshold=0.92,
        validation_metrics={"accuracy": 0.946, "target_error": 0.02, "promised_error": 0.0193,
                            "threshold_delta": 0.1},
        test_metrics={"accuracy": 0.94, "at_threshold_coverage": 0.858, "at_threshold_error": 0.0178,
                      "email_shaped_coverage": 0.857, "email_shaped_error": 0.0179},
    )  # fmt: skip
    html = logged_in.get(reverse("inbox:overview")).content.decode()
    assert "≤ 2.0% wrong among auto-routed, with 90% probability" in html
    assert "(upper bound 1.93%, chosen on validation)" in html
    assert "85.8% auto-routed, 1.78% wrong; email-shaped: 85.7% auto-routed, 1.79% wrong" in html


def test_mail_sent_to_review_for_its_content_is_not_counted_as_routed(logged_in):
    production(version="v1", threshold=0.5)
    now = timezone.now()
    common = {"model_version": "v1", "classified_at": now, "predicted_intent": "card_arrival"}
    EmailFactory(status=Email.Status.NEEDS_REVIEW, routing_reason="not_english", confidence=0.97,
                 **common)  # fmt: skip
    EmailFactory(status=Email.Status.CLASSIFIED, routing_reason="from_thread", confidence=0.2,
                 intent="card_arrival", **common)  # fmt: skip
    EmailFactory(status=Email.Status.CLASSIFIED, confidence=0.9, intent="card_arrival", **common)
    html = logged_in.get(reverse("inbox:overview")).content.decode()
    assert "2 routed, 1 sent to review" in html


def test_the_top_confusions_are_a_table_with_a_link_to_the_full_matrix(logged_in, settings):
    import json

    import numpy as np

    from inbox import intents
    from mlops.evaluation import evaluate

    production(version="v3")
    labels = intents.LABELS
    # 20 test emails per intent; card_arrival taken for card_delivery_estimate 5 times,
    # the other way twice, lost_or_stolen_card for compromised_card once.
    y, predicted = [], []
    for name in labels:
        y += [name] * 20
        predicted += [name] * 20

    def mix(true: str, wrong: str, n: int) -> None:
        start = labels.index(true) * 20
        predicted[start : start + n] = [wrong] * n

    mix("card_delivery_estimate", "card_arrival", 5)
    mix("card_arrival", "card_delivery_estimate", 2)
    mix("lost_or_stolen_card", "compromised_card", 1)
    probs = np.full((len(y), len(labels)), 0.001)
    probs[np.arange(len(y)), [labels.index(p) for p in predicted]] = 0.9
    report = evaluate(labels, y, probs / probs.sum(axis=1, keepdims=True))
    folder = settings.CLEANINBOX_REPORTS_DIR / "v3"
    folder.mkdir(parents=True)
    (folder / "report.json").write_text(json.dumps(report.to_dict()))
    (folder / "confusion_matrix.png").write_bytes(PNG)
    (folder / "reliability.png").write_bytes(PNG)

    html = logged_in.get(reverse("inbox:overview")).content.decode()
    table = html[html.index('id="top-confusions"') :]
    rows = [row for row in table.split("<tr>")[2:5]]
    assert "Card delivery estimate" in rows[0] and "Card arrival" in rows[0]
    assert '<td class="num">5</td>' in rows[0] and '<td class="num">25.0%</td>' in rows[0]
    assert '<td class="num">2</td>' in rows[0]  # the other way round
    assert '<td class="num">2</td><td class="num">10.0%</td>' in rows[1]
    assert "Lost or stolen card" in rows[2]
    assert "3 largest of 8 errors on 1540 test emails" in html
    # The unreadable thumbnail gives way to the table and a link to the full plot.
    assert 'id="full-confusion-matrix"' in html
    assert '<img src="/overview/reports/v3/confusion_matrix.png"' not in html
    assert '<img src="/overview/reports/v3/reliability.png"' in html
