"""System checks: settings mistakes reported at start-up with ids and hints."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_cleaninbox_settings(app_configs, **kwargs):
    problems = []
    threshold = settings.CLEANINBOX_REVIEW_THRESHOLD
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        problems.append(
            Error(
                f"CLEANINBOX_REVIEW_THRESHOLD={threshold} is not a probability.",
                hint="Use a number between 0 and 1, or leave it empty to use the model's recommendation.",
                id="cleaninbox.E001",
            )
        )
    if settings.CLEANINBOX_MAX_BODY_BYTES <= 0:
        problems.append(Error("CLEANINBOX_MAX_BODY_BYTES must be positive.", id="cleaninbox.E002"))
    if settings.CLEANINBOX_TORCH_THREADS < 1:
        problems.append(Error("CLEANINBOX_TORCH_THREADS must be at least 1.", id="cleaninbox.E003"))
    if settings.CLEANINBOX_IMAP_HOST and not (
        settings.CLEANINBOX_IMAP_USER and settings.CLEANINBOX_IMAP_PASSWORD
    ):
        problems.append(
            Error(
                "CLEANINBOX_IMAP_HOST is set but CLEANINBOX_IMAP_USER or CLEANINBOX_IMAP_PASSWORD is not.",
                hint="Set both, or leave CLEANINBOX_IMAP_HOST empty to turn IMAP polling off.",
                id="cleaninbox.E004",
            )
        )
    if not settings.DEBUG and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(
            Warning(
                "Running with DEBUG off on SQLite.",
                hint="Set DATABASE_URL to a PostgreSQL database for production.",
                id="cleaninbox.W001",
            )
        )
    return problems
