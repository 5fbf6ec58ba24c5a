from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from inbox import checks, signals  # noqa: F401  (checks registers system checks)
        from inbox.handoff import receivers

        # The hand-off writes its outbox rows in the transaction that routed the emails.
        signals.emails_routed.connect(receivers.on_emails_routed, dispatch_uid="handoff-outbox")
