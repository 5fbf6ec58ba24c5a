"""The README's hand-off section stays true: its receiver snippet verifies what the sender
signs (and refuses what it should), and its example payload has the shape the code sends."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from django.db import transaction

from inbox.handoff import receivers, senders, signing
from inbox.handoff.models import WebhookEndpoint
from inbox.models import Email
from inbox.tests.factories import EmailFactory

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def block(marker: str, language: str) -> str:
    found = re.search(rf"<!-- {marker} -->\n```{language}\n(.*?)\n```", README, re.DOTALL)
    assert found, f"README has no {language} block after <!-- {marker} -->"
    return found.group(1)


@pytest.fixture(scope="module")
def verify():
    namespace: dict = {}
    exec(block("receiver snippet", "python"), namespace)  # noqa: S102  (our own README)
    return namespace["verify"]


SECRET = "whsec_" + "cmVhZG1lLXNuaXBwZXQtc2VjcmV0LTEyMzQ1Njc4OTA="


def test_the_readme_snippet_accepts_a_request_the_sender_signed(verify):
    body = b'{"type":"email.routed"}'
    headers = signing.headers(SECRET, "msg_abc", body)
    assert verify(SECRET, headers, body)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b + b" "),  # a changed body
        lambda h, b: ({**h, "webhook-id": "msg_other"}, b),  # a body moved under another id
        lambda h, b: (signing.headers(SECRET, "msg_abc", b, now=time.time() - 3600), b),  # old
        lambda h, b: (signing.headers("whsec_" + "b3RoZXItc2VjcmV0", "msg_abc", b), b),
    ],
    ids=["body", "id", "replayed-an-hour-later", "other-secret"],
)
def test_the_readme_snippet_refuses_a_tampered_request(verify, tamper):
    body = b'{"type":"email.routed"}'
    headers, body = tamper(signing.headers(SECRET, "msg_abc", body), body)
    assert not verify(SECRET, headers, body)
    assert not signing.verify(SECRET, headers, body)


def keys(value) -> object:
    """The shape of a JSON value: dict keys (recursively), list item shapes."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keys(v) for v in value[:1]]
    return None


@pytest.mark.django_db
def test_the_readme_example_payload_has_the_shape_the_code_sends(settings):
    from inbox.handoff.models import CannedReply
    from inbox.models import Team

    settings.CLEANINBOX_PUBLIC_URL = "https://inbox.bank.example"
    team = Team.objects.create(name="Cards", slug="cards", email="cards@helpdesk.example")
    WebhookEndpoint.objects.create(name="z", url="https://z.example/in")
    CannedReply.objects.create(intent="card_arrival", title="t", body="Dear {{ first_name }}")
    email = EmailFactory(status=Email.Status.CLASSIFIED, intent="card_arrival", team=team)
    with transaction.atomic():
        (row, _) = sorted(receivers.enqueue([email.pk]), key=lambda r: r.kind, reverse=True)
    sent = json.loads(senders.body_of(row))
    assert keys(json.loads(block("example payload", "json"))) == keys(sent)
