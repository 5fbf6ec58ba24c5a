"""factory_boy factories for inbox models."""

from __future__ import annotations

import factory
from django.utils import timezone

from inbox.models import Email


class EmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Email

    message_id = factory.Sequence(lambda n: f"msg-{n}@customer.example")
    sender = factory.Sequence(lambda n: f"customer{n}@mail.example")
    sender_name = factory.Faker("name")
    subject = "Question about my card"
    body_text = "I still have not received my new card, it has been two weeks"
    received_at = factory.LazyFunction(timezone.now)
    status = Email.Status.PENDING


def email_payload(n: int = 0, **overrides) -> dict:
    """A valid JSON body for POST /api/emails/."""
    payload = {
        "message_id": f"<api-{n}@customer.example>",
        "sender": f"customer{n}@mail.example",
        "sender_name": "Jane Customer",
        "recipients": ["support@bank.example"],
        "subject": "Card",
        "body_text": "I still have not received my new card, it has been two weeks",
    }
    payload.update(overrides)
    return payload
