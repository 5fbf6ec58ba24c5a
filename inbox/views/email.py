"""One email's page and the one-click corrections made from it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from inbox import intents, services
from inbox.models import Email
from inbox.views.bodies import frame_document
from inbox.views.deliveries import email_context as handoff_context
from inbox.views.folders import FolderQuery, folder_of, navigation
from inbox.views.forms import CorrectionForm
from inbox.views.triage import triage_panel


@login_required
def email_detail(request: HttpRequest, pk: int) -> HttpResponse:
    email = get_object_or_404(Email.objects.select_related("corrected_by", "thread_root"), pk=pk)
    query = FolderQuery.from_context(request.GET, request.user)
    previous, following = query.neighbours(email) if query else (None, None)
    context_qs = query.context_querystring() if query else ""
    list_qs = query.querystring() if query else ""
    current = folder_of(email)
    alternatives = [
        {"key": str(n), "intent": item["intent"], "probability": item.get("probability")}
        for n, item in enumerate(_known(email.top_k)[:3], start=1)
    ]
    srcdoc = frame_document(email.body_html) if email.body_html else ""
    thread = []
    root = email.thread_root or email
    if email.thread_root_id or root.thread_replies.exists():
        thread = [root, *root.thread_replies.order_by("received_at", "id")]
    return render(
        request,
        "inbox/email.html",
        {
            **navigation(query.folder if query else current, user=request.user),
            **triage_panel(email),
            "email": email,
            "list_folder": query.folder if query else current,
            "current": current,
            "context_qs": context_qs,
            "list_qs": list_qs,
            "previous": previous,
            "following": following,
            "alternatives": alternatives,
            "corrections": email.corrections.select_related("user"),
            "srcdoc": srcdoc,
            "has_images": "<img" in srcdoc,
            "thread": thread,
            **handoff_context(email, request.user),
        },
    )


@login_required
@require_POST
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Set the email's intent (an accept is a correction to the model's own answer).

    Then go on to the next email of the list the agent came from, so a queue can be
    worked through with one click per email.
    """
    email = get_object_or_404(Email, pk=pk)
    query = FolderQuery.from_context(request.GET, request.user)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["intent"]))
        return redirect(_email_url(email, query))
    intent = form.cleaned_data["intent"]
    correction = services.record_correction(email, intent, request.user, via="ui")
    verb = "Confirmed" if correction.agrees_with_model else "Moved to"
    messages.success(
        request,
        format_html(
            '{} <a href="{}">{}</a>: <a href="{}">{}</a>',
            verb,
            reverse("inbox:folder", args=[intent]),
            intents.display_title(intent),
            reverse("inbox:email", args=[email.pk]),
            email.subject or "(no subject)",
        ),
    )
    return redirect(_after_correction(email, query))


@login_required
@require_POST
def handled(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the email handled (answered, passed on) without changing its intent: its SLA
    clock stops. Then on to the next email of the list, as after a correction."""
    email = get_object_or_404(Email, pk=pk)
    query = FolderQuery.from_context(request.GET, request.user)
    if services.mark_handled(email, request.user, via="ui"):
        messages.success(
            request,
            format_html(
                'Marked handled: <a href="{}">{}</a>',
                reverse("inbox:email", args=[email.pk]),
                email.subject or "(no subject)",
            ),
        )
    return redirect(_after_correction(email, query))


def _after_correction(email: Email, query: FolderQuery | None) -> str:
    if query is None:
        return _email_url(email, None)
    previous, below = query.neighbours(email)
    following = below or previous
    if following is not None:
        return _email_url(following, query)
    return query.list_url()


def _email_url(email: Email, query: FolderQuery | None) -> str:
    url = reverse("inbox:email", args=[email.pk])
    return f"{url}?{query.context_querystring()}" if query else url


def _known(top_k: list) -> list[dict]:
    """The stored top-k entries that name a current intent (defensive: it is JSON)."""
    return [
        item for item in top_k or []
        if isinstance(item, dict) and intents.is_intent(str(item.get("intent", "")))
    ]  # fmt: skip
