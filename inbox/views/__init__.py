"""The agents' web inbox: server-rendered pages, htmx for polling."""

from __future__ import annotations

from inbox.views.deliveries import deliveries, retry_delivery
from inbox.views.email import correct, email_detail, handled
from inbox.views.lists import folder, folder_rows, home, relabel
from inbox.views.overview import overview, report_image

__all__ = [
    "correct", "deliveries", "email_detail", "folder", "folder_rows", "handled", "home",
    "overview", "relabel", "report_image", "retry_delivery",
]  # fmt: skip
