"""Mail outside the 77 intents, and short replies, through the API and a real Celery worker.

The model is the real TF-IDF baseline trained on BANKING77 (with its threshold and
out-of-scope limit chosen on validation); language identification is the real py3langid.
"""

from __future__ import annotations

from inbox.models import Email
from inbox.tests.factories import email_payload
from tests.helpers import wait_for

GERMAN = "Meine Karte ist noch nicht angekommen, wann wird sie geliefert?"
OFF_TOPIC = "Can you recommend a good Italian restaurant near the city centre?"
CARD_ARRIVAL = "I still have not received my new card, it has been two weeks"


def classified(pk: int) -> Email:
    assert wait_for(lambda: Email.objects.get(pk=pk).status != Email.Status.PENDING, timeout=60)
    return Email.objects.get(pk=pk)


def post(api_client, n: int, **fields) -> int:
    response = api_client.post("/api/emails/", email_payload(n, **fields), format="json")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def test_foreign_and_off_topic_mail_go_to_review_with_their_reasons(
    celery_worker, active_model, api_client, client, agent
):
    german = classified(
        post(api_client, 1, subject="Karte", body_text=f"Hallo,\n\n{GERMAN}\n\nGruß\nJan")
    )
    off = classified(post(api_client, 2, subject="", body_text=OFF_TOPIC))
    empty = classified(post(api_client, 3, subject="", body_text="Please see attached"))

    assert (german.status, german.routing_reason, german.intent) == (
        "needs_review",
        "not_english",
        "",
    )
    assert (off.status, off.routing_reason, off.intent) == ("needs_review", "out_of_scope", "")
    assert (empty.status, empty.routing_reason) == ("needs_review", "nothing_to_classify")
    # The model's own guess is still kept for the agent.
    assert german.predicted_intent and german.top_k

    client.force_login(agent)
    page = client.get(f"/emails/{german.pk}/").content.decode()
    assert "Why it is here: <strong>Not English</strong>" in page
    assert "Outside the known intents" in client.get(f"/emails/{off.pk}/").content.decode()
    review = client.get("/folders/review/").content.decode()
    assert "Not English" in review and "Outside the known intents" in review


def test_a_short_reply_takes_the_intent_of_the_email_it_answers(
    celery_worker, active_model, api_client, client, agent
):
    root = classified(post(api_client, 10, subject="Card", body_text=CARD_ARRIVAL))
    assert (root.status, root.intent) == ("classified", "card_arrival")

    reply = classified(
        post(api_client, 11, subject="Re: Card", body_text="Any update?\n\nJane",
             in_reply_to=root.message_id)
    )  # fmt: skip

    assert reply.thread_root_id == root.pk
    assert (reply.status, reply.routing_reason, reply.intent) == (
        "classified", "from_thread", "card_arrival",
    )  # fmt: skip
    assert reply.predicted_intent != "card_arrival"  # the model alone would not have known
    client.force_login(agent)
    page = client.get(f"/emails/{reply.pk}/").content.decode()
    assert "Classified from the thread: <strong>Card arrival</strong>" in page
