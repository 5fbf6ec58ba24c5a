"""Hand-off to a helpdesk: routed emails delivered to webhooks and team mailboxes.

The outbox pattern. ``receivers`` listens to ``inbox.signals.emails_routed``, which is
sent inside the transaction that gives emails their intent, and writes one ``Delivery``
row per destination in that same transaction: an intent that rolls back leaves no row, a
committed one always has its rows. ``outbox`` claims due rows (``FOR UPDATE SKIP
LOCKED`` under a lease), sends them (``webhooks``: HMAC-signed POSTs; ``mail``: SMTP
through Django's email backend), and retries failures with exponential back-off and
jitter until they succeed or run out of attempts or age. ``canned`` renders the canned
reply suggested for an intent with a fixed set of safe fields.

Public surface: ``models`` (WebhookEndpoint, Delivery, CannedReply), ``outbox.deliver_due``,
``outbox.retry``, ``canned.suggestions``, ``tasks.deliver_outbox``.
"""
