"""The inbox home (folders with counts), a folder's list, its polled rows and bulk relabel."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from inbox import intents, services, stats
from inbox.models import Email
from inbox.views.bodies import first_line
from inbox.views.folders import QUEUES, FolderQuery, get_folder, navigation
from inbox.views.forms import RelabelForm

PAGE_SIZE = 25


def poll_seconds() -> float:
    """How often a list asks for new emails (CLEANINBOX_UI_POLL_SECONDS, default 5)."""
    return settings.CLEANINBOX_UI_POLL_SECONDS


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "inbox/home.html", navigation(None))


@login_required
def folder(request: HttpRequest, key: str) -> HttpResponse:
    query = FolderQuery(get_folder(key), request.GET)
    counts = stats.folder_counts()
    context = {**navigation(query.folder, counts), **_list_context(request, query, counts)}
    return render(request, "inbox/folder.html", context)


def folder_rows(request: HttpRequest, key: str) -> HttpResponse:
    """The list's rows for polling; 204 (htmx keeps the page as is) when nothing changed."""
    if not request.user.is_authenticated:
        # A redirect would be followed by htmx and the login page swapped into the list.
        return HttpResponseClientRedirect(redirect_to_login(get_folder(key).url()).url)
    query = FolderQuery(get_folder(key), request.GET)
    counts = stats.folder_counts()
    context = _list_context(request, query, counts)
    if request.GET.get("state") == context["state"]:
        return HttpResponse(status=204)
    return render(request, "inbox/_rows.html", {**navigation(query.folder, counts), **context})


@login_required
@require_POST
def relabel(request: HttpRequest) -> HttpResponse:
    """Give every selected email the same intent (one correction each)."""
    query = FolderQuery.from_context(request.GET)
    back = query.list_url() if query else QUEUES["all"].url()
    form = RelabelForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(back)
    intent = form.cleaned_data["intent"]
    emails = Email.objects.filter(pk__in=form.cleaned_data["ids"])
    count = services.relabel_many(emails, intent, request.user, via="ui")
    noun = "email" if count == 1 else "emails"
    messages.success(request, f"Moved {count} {noun} to {intents.display_title(intent)}.")
    return redirect(back)


def _list_context(request: HttpRequest, query: FolderQuery, counts: stats.FolderCounts) -> dict:
    page = Paginator(query.queryset(), PAGE_SIZE).get_page(request.GET.get("page"))
    emails = list(page.object_list)
    for email in emails:
        email.preview = first_line(email.body_text, email.body_html)
    # A fingerprint of what the page shows (rows and queue counts), so polling only
    # re-renders when something changed.
    shown = [(e.pk, e.status, e.intent) for e in emails]
    shown += [page.paginator.count, sorted(counts.by_status.items())]
    state = hashlib.sha1(repr(shown).encode()).hexdigest()[:16]
    return {
        "query": query,
        "folder": query.folder,
        "form": query.form,
        "page": page,
        "emails": emails,
        "state": state,
        "poll_seconds": poll_seconds() if page.number == 1 else None,
        "list_qs": query.querystring(),
        "context_qs": query.context_querystring(),
        "rows_qs": urlencode({**query.params, "state": state}),
        "show_intent": not query.folder.is_intent,
    }
