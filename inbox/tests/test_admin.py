"""The Django admin: list, filters and search, relabel many at once, corrections from the form."""

from __future__ import annotations

import pytest

from inbox.models import Correction, Email
from inbox.tests.factories import EmailFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/inbox/email/"


def test_the_changelist_shows_intent_confidence_status_and_searches(client, staff):
    client.force_login(staff)
    EmailFactory(
        subject="Where is my card",
        intent="card_arrival",
        confidence=0.93,
        status=Email.Status.CLASSIFIED,
    )
    EmailFactory(
        subject="Exchange question",
        body_text="What rate do you use?",
        intent="exchange_rate",
        status=Email.Status.NEEDS_REVIEW,
    )
    page = client.get(CHANGELIST, {"q": "card"}).content.decode()
    assert "Where is my card" in page and "card_arrival" in page and "93%" in page
    assert "Exchange question" not in page
    filtered = client.get(CHANGELIST, {"status__exact": "needs_review"}).content.decode()
    assert "Exchange question" in filtered and "Where is my card" not in filtered


def test_the_relabel_action_records_one_correction_per_email(client, staff):
    client.force_login(staff)
    emails = [
        EmailFactory(intent="card_arrival", predicted_intent="card_arrival") for _ in range(3)
    ]
    ids = [str(e.pk) for e in emails[:2]]
    confirm = client.post(CHANGELIST, {"action": "relabel", "_selected_action": ids})
    assert confirm.status_code == 200
    assert "Relabel these 2 emails" in confirm.content.decode()
    done = client.post(
        CHANGELIST,
        {"action": "relabel", "_selected_action": ids, "apply": "1", "intent": "card_linking"},
    )
    assert done.status_code == 302
    assert set(Email.objects.filter(intent="card_linking").values_list("pk", flat=True)) == {
        emails[0].pk,
        emails[1].pk,
    }
    corrections = Correction.objects.all()
    assert corrections.count() == 2
    assert {(c.user, c.model_intent, c.new_intent, c.via) for c in corrections} == {
        (staff, "card_arrival", "card_linking", "admin")
    }


def test_the_relabel_action_refuses_an_unknown_intent(client, staff):
    client.force_login(staff)
    email = EmailFactory(intent="card_arrival")
    response = client.post(
        CHANGELIST,
        {"action": "relabel", "_selected_action": [email.pk], "apply": "1", "intent": "nope"},
    )
    assert response.status_code == 200  # the form again, with its error
    assert not Correction.objects.exists()


def test_changing_the_intent_in_the_form_is_stored_as_a_correction(client, staff):
    client.force_login(staff)
    email = EmailFactory(
        intent="card_arrival", predicted_intent="card_arrival", confidence=0.5, model_version="v1"
    )
    form = client.get(f"{CHANGELIST}{email.pk}/change/")
    assert form.status_code == 200
    data = {
        "sender": email.sender,
        "sender_name": email.sender_name,
        "recipients": "[]",
        "subject": email.subject,
        "received_at_0": email.received_at.strftime("%Y-%m-%d"),
        "received_at_1": email.received_at.strftime("%H:%M:%S"),
        "source": email.source,
        "body_text": email.body_text,
        "body_html": "",
        "status": email.status,
        "intent": "card_delivery_estimate",
        "in_reply_to": "",
        "references": "[]",
        "corrections-TOTAL_FORMS": "0",
        "corrections-INITIAL_FORMS": "0",
    }
    response = client.post(f"{CHANGELIST}{email.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    correction = Correction.objects.get()
    assert (
        correction.previous_intent,
        correction.new_intent,
        correction.model_version,
        correction.via,
    ) == (
        "card_arrival",
        "card_delivery_estimate",
        "v1",
        "admin",
    )


def test_an_agent_who_is_not_staff_cannot_reach_the_admin(client, agent):
    client.force_login(agent)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
