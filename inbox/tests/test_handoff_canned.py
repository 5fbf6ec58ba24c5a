"""Canned replies: a fixed set of safe fields, no template language, hostile input kept
as text; edited in the admin, which refuses unknown fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from inbox.handoff import canned
from inbox.handoff.models import CannedReply
from inbox.models import Email, Priority, Team
from inbox.tests.factories import EmailFactory


def email(**fields) -> Email:
    team = fields.pop("team", None)
    e = Email(**{
        "pk": 42, "sender": "jane@mail.example", "sender_name": "Jane Doe", "subject": "Card",
        "intent": "card_arrival", "priority": Priority.URGENT,
        "sla_due_at": datetime(2026, 12, 5, 14, 0, tzinfo=UTC), **fields,
    })  # fmt: skip
    if team:
        e.team = team
    return e


def test_each_safe_field_is_filled_in():
    team = Team(pk=1, name="Cards", slug="cards")
    body = (
        "{{ first_name }}|{{customer_name}}|{{ subject }}|{{ intent }}|{{ team }}|"
        "{{ priority }}|{{ sla_due }}|{{ reference }}"
    )
    assert canned.render(body, canned.values(email(team=team))) == (
        "Jane|Jane Doe|Card|Card arrival|Cards|Urgent|5 Dec 2026 14:00 UTC|CI-42"
    )


@pytest.mark.parametrize(
    ("name", "first"),
    [("Doe, Jane", "Jane"), ("", "customer"), ("  Jane   Doe ", "Jane"), ("Prince", "Prince")],
)
def test_the_first_name_comes_from_the_display_name(name, first):
    assert canned.values(email(sender_name=name))["first_name"] == first


@pytest.mark.parametrize(
    "hostile",
    [
        "{{ email.sender }}",
        "{{ first_name.__class__ }}",
        "{{ settings.SECRET_KEY }}",
        "{0.__class__.__init__.__globals__}",
        "{first_name}",
        "{% load static %}{% debug %}",
        "{{ first_name|upper }}",
        "{{ __import__('os').system('id') }}",
    ],
)
def test_a_hostile_template_reaches_nothing_but_the_listed_fields(hostile, settings):
    rendered = canned.render(hostile, canned.values(email()))
    assert settings.SECRET_KEY not in rendered
    assert "jane@mail.example" not in rendered
    assert "class" not in rendered.replace("__class__", "")  # nothing was evaluated
    assert rendered == hostile  # left exactly as written
    if "{{" in hostile or "{%" in hostile:
        with pytest.raises(ValidationError):  # and the admin would not have saved it
            canned.validate_template(hostile)
    else:
        canned.validate_template(hostile)  # single braces are plain text


def test_a_customer_naming_himself_like_a_field_is_not_expanded():
    e = email(sender_name="{{reference}} Doe", subject="{{ first_name }}")
    out = canned.render("Hi {{ first_name }}, re: {{ subject }}", canned.values(e))
    assert out == "Hi {{reference}}, re: {{ first_name }}"


def test_values_are_one_bounded_line():
    e = email(sender_name="Jane\r\nBcc: all@bank.example", subject="x" * 5000)
    fields = canned.values(e)
    assert "\n" not in fields["customer_name"] and "\r" not in fields["customer_name"]
    assert len(fields["subject"]) == canned.MAX_VALUE


@pytest.mark.django_db
def test_suggestions_are_the_intents_active_replies_rendered():
    CannedReply.objects.create(intent="card_arrival", title="B", body="Hello {{ first_name }}")
    CannedReply.objects.create(intent="card_arrival", title="A", body="Ref {{ reference }}")
    CannedReply.objects.create(intent="card_arrival", title="off", body="x", active=False)
    CannedReply.objects.create(intent="lost_or_stolen_card", title="other", body="x")
    e = EmailFactory(intent="card_arrival", sender_name="Jane Doe")
    assert [(s.title, s.body) for s in canned.suggestions(e)] == [
        ("A", f"Ref CI-{e.pk}"),
        ("B", "Hello Jane"),
    ]
    assert canned.suggestions(EmailFactory(intent="")) == []


@pytest.mark.django_db
def test_the_admin_refuses_an_unknown_field_and_saves_a_good_template(client, staff):
    client.force_login(staff)
    url = "/admin/inbox/cannedreply/add/"
    bad = {"intent": "card_arrival", "title": "t", "body": "{{ email.body_text }}", "active": "on"}
    response = client.post(url, bad)
    assert response.status_code == 200
    assert "Unknown field(s): email.body_text" in response.content.decode()
    assert not CannedReply.objects.exists()
    good = {**bad, "body": "Dear {{ first_name }}"}
    assert client.post(url, good).status_code == 302
    assert CannedReply.objects.get().body == "Dear {{ first_name }}"
