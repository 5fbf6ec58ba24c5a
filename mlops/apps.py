from django.apps import AppConfig


class MlopsConfig(AppConfig):
    name = "mlops"
    verbose_name = "Model lifecycle"

    def ready(self) -> None:
        from inbox import signals
        from mlops import shadow

        # The candidate in shadow hears about each classified batch after it commits.
        signals.emails_routed.connect(shadow.on_emails_routed, dispatch_uid="mlops.shadow")
