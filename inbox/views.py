"""The agents' web inbox (server-rendered, htmx)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    return redirect("admin:inbox_email_changelist")
