"""`manage.py poll_imap`: fetch and store one batch of new mail from the IMAP mailbox now."""

from __future__ import annotations

import imaplib

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from inbox import imap


class Command(BaseCommand):
    help = (
        "Poll the IMAP mailbox in CLEANINBOX_IMAP_* once, as the beat task does: store up to "
        "CLEANINBOX_IMAP_BATCH new messages, then mark them read (or move them to "
        "CLEANINBOX_IMAP_PROCESSED_FOLDER). Rejected mail stays unread on the server."
    )

    def handle(self, *args, **options):
        try:
            config = imap.ImapConfig.from_settings()
            summary = imap.poll_exclusively(config)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        except (imap.ImapError, imaplib.IMAP4.error, OSError) as exc:
            raise CommandError(f"IMAP poll of {config.host}:{config.port} failed: {exc}") from exc
        if summary is None:
            self.stdout.write("Another poll is running; nothing done.")
            return
        for line in summary.lines():
            self.stdout.write(line)
