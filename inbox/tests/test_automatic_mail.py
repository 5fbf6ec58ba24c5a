"""Automatic mail (auto-replies, bounces, list mail) is set aside at ingest, never
classified, and has its own folder with the reason shown."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from inbox.ingest_raw import ingest_raw
from inbox.mail import automatic_reason, parse_message
from inbox.models import Email
from inbox.tests.rawmail import raw_email


def message(subject: str = "Card not arrived", sender: str = "jane@customer.example", **headers):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@bank.example"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash((subject, sender, tuple(headers.items()))))}@x.example>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("I still have not received my new card.")
    return msg


def delivery_status_notification() -> bytes:
    """A bounce as an MTA writes it (RFC 3464): multipart/report with a delivery-status part."""
    return (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.bank.example>\r\n"
        b"To: support@bank.example\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce-1@mx.bank.example>\r\n"
        b"Auto-Submitted: auto-replied\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\n"
        b"I'm sorry to have to inform you that your message could not be delivered.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.bank.example\r\n\r\n"
        b"Final-Recipient: rfc822; gone@customer.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--B--\r\n"
    )


# --- recognising it ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "auto_reply"),
        ({"Auto-Submitted": "auto-generated"}, "auto_reply"),
        ({"X-Autoreply": "yes"}, "auto_reply"),
        ({"X-Autorespond": "Out of office"}, "auto_reply"),
        ({"Precedence": "auto_reply"}, "auto_reply"),
        ({"List-Id": "Offers <offers.shop.example>"}, "mailing_list"),
        ({"List-Unsubscribe": "<mailto:unsubscribe@shop.example>"}, "mailing_list"),
        ({"Precedence": "bulk"}, "mailing_list"),
        ({"Precedence": "list"}, "mailing_list"),
        ({"Precedence": "junk"}, "mailing_list"),
        ({"X-Failed-Recipients": "gone@customer.example"}, "bounce"),
        ({"Content-Type": "multipart/report; report-type=delivery-status"}, "bounce"),
        ({"Content-Type": "multipart/report; report-type=disposition-notification"}, "auto_reply"),
        # a bounce is often also marked Auto-Submitted; it is still a bounce
        ({"Auto-Submitted": "auto-replied", "X-Failed-Recipients": "x@y.example"}, "bounce"),
        # an out-of-office sent through a list server is still an auto-reply
        ({"Auto-Submitted": "auto-replied", "List-Id": "<staff.example>"}, "auto_reply"),
    ],
)
def test_it_reads_the_standard_headers(headers, reason):
    assert automatic_reason(headers, "someone@customer.example", "Card") == reason
    # header names in any case
    assert automatic_reason({k.upper(): v for k, v in headers.items()}) == reason


@pytest.mark.parametrize(
    "headers",
    [{}, {"Auto-Submitted": "no"}, {"Precedence": "normal"}, {"X-Mailer": "Outlook"}],
)
def test_mail_a_person_wrote_is_not_automatic(headers):
    assert automatic_reason(headers, "jane@customer.example", "Card not arrived") == ""


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Your transfer",
        "Out of Office: Re: card",
        "Abwesenheitsnotiz: Ihre Anfrage",
        "Automatische Antwort: Karte",
        "Réponse automatique : Votre demande",
        "Respuesta automática: Su solicitud",
        "Risposta automatica: La sua richiesta",
        "Automatisch antwoord: Uw vraag",
        "Automatyczna odpowiedź: Twoje zapytanie",
        "Resposta automática: Sua solicitação",
        "Autosvar: Din henvendelse",
        "Automaattinen vastaus: Pyyntösi",
    ],
)
def test_out_of_office_subjects_in_the_languages_we_receive(subject):
    assert automatic_reason({}, "jane@customer.example", subject) == "auto_reply"


@pytest.mark.parametrize(
    "subject",
    ["Out of money after a transfer?", "Automatic top-up failed", "Reply to my complaint please"],
)
def test_a_customer_subject_that_only_resembles_one_is_not_automatic(subject):
    assert automatic_reason({}, "jane@customer.example", subject) == ""


def test_bounces_by_sender_or_subject():
    assert automatic_reason({}, "MAILER-DAEMON@mx.example", "Card") == "bounce"
    assert automatic_reason({}, "postmaster@mx.example", "Card") == "bounce"
    assert automatic_reason({}, "x@y.example", "Undeliverable: Your statement") == "bounce"
    assert automatic_reason({}, "x@y.example", "Delivery Status Notification (Failure)") == "bounce"
    assert automatic_reason({}, "x@y.example", "Unzustellbar: Ihre Anfrage") == "bounce"


def test_parse_message_reports_it():
    assert parse_message(delivery_status_notification()).automatic == "bounce"
    ooo = message("Re: card", Auto_Submitted="auto-replied", X_Autoreply="yes")
    assert parse_message(ooo.as_bytes()).automatic == "auto_reply"
    assert parse_message(message(List_Id="<news.shop.example>").as_bytes()).automatic == (
        "mailing_list"
    )
    assert parse_message(raw_email(1)).automatic == ""


# --- setting it aside --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (lambda: message("Out of Office: Re: card", Auto_Submitted="auto-replied").as_bytes(),
         "auto_reply"),
        (delivery_status_notification, "bounce"),
        (lambda: message("Our spring offers", List_Unsubscribe="<mailto:u@shop.example>").as_bytes(),
         "mailing_list"),
    ],
)  # fmt: skip
def test_raw_automatic_mail_is_stored_set_aside_and_never_queued(
    raw, reason, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        outcome = ingest_raw(raw(), Email.Source.RAW)
    email = outcome.email
    assert outcome.result == "accepted"
    assert (email.status, email.routing_reason) == (Email.Status.SET_ASIDE, reason)
    assert email.intent == "" and email.confidence is None
    assert queued == []  # nothing sent to the model


@pytest.mark.django_db
def test_a_persons_raw_mail_is_still_queued(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        outcome = ingest_raw(raw_email(7), Email.Source.RAW)
    assert outcome.email.status == Email.Status.PENDING and outcome.email.routing_reason == ""
    assert len(queued) == 1


@pytest.mark.django_db
def test_the_json_api_takes_optional_headers(
    api_client: APIClient, django_capture_on_commit_callbacks
):
    item = {
        "message_id": "ooo-1@customer.example",
        "sender": "jane@customer.example",
        "subject": "Re: Your card",
        "body_text": "I am out of the office until Monday.",
        "headers": {"Auto-Submitted": "auto-replied"},
    }
    with django_capture_on_commit_callbacks() as queued:
        response = api_client.post("/api/emails/", item, format="json")
    assert response.status_code == 202, response.content
    email = Email.objects.get(message_id="ooo-1@customer.example")
    assert (email.status, email.routing_reason) == ("set_aside", "auto_reply")
    assert queued == []
    detail = api_client.get(f"/api/emails/{email.pk}/").json()
    assert (detail["status"], detail["routing_reason"]) == ("set_aside", "auto_reply")
    bad = {**item, "message_id": "ooo-2@customer.example", "headers": ["Auto-Submitted"]}
    assert api_client.post("/api/emails/", bad, format="json").status_code == 400


@pytest.mark.django_db
def test_set_aside_mail_is_not_requeued_or_swept(django_capture_on_commit_callbacks):
    from inbox import services

    email = ingest_raw(delivery_status_notification(), Email.Source.RAW).email
    with django_capture_on_commit_callbacks():
        assert services.requeue([email]) == 0
    email.refresh_from_db()
    assert email.status == Email.Status.SET_ASIDE


# --- the inbox ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_has_its_own_folder_with_the_reason_shown(client, agent):
    client.force_login(agent)
    ooo = ingest_raw(
        message("Abwesenheitsnotiz: Ihre Anfrage", X_Autoreply="yes").as_bytes(), Email.Source.RAW
    ).email
    person = ingest_raw(raw_email(3), Email.Source.RAW).email
    home = client.get(reverse("inbox:home")).content.decode()
    assert 'data-count="automatic">1<' in home
    listing = client.get(reverse("inbox:folder", args=["automatic"])).content.decode()
    assert f'data-id="{ooo.pk}"' in listing and f'data-id="{person.pk}"' not in listing
    assert "Auto-reply / out of office" in listing
    review = client.get(reverse("inbox:folder", args=["review"])).content.decode()
    assert f'data-id="{ooo.pk}"' not in review  # no agent has to clear it
    page = client.get(reverse("inbox:email", args=[ooo.pk])).content.decode()
    assert 'id="routing-reason">Auto-reply / out of office<' in page
    assert "not sent to the model" in page
