"""The inbox home (folders with counts), a folder's list, its polled rows and bulk relabel."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from inbox import intents, services, stats
from inbox.models import Email
from inbox.views.bodies import preview
from inbox.views.folders import (
    MY_TEAM,
    QUEUES,
    FolderQuery,
    get_folder,
    my_team_folder,
    navigation,
    team_navigation,
)
from inbox.views.forms import RelabelForm
from inbox.views.triage import routing_threshold

PAGE_SIZE = 25


def poll_seconds() -> float:
    """How often a list asks for new emails (CLEANINBOX_UI_POLL_SECONDS, default 5)."""
    return settings.CLEANINBOX_UI_POLL_SECONDS


HOME_TEAM_ROWS = 8


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Queues, then the agent's team first (its most urgent open mail), then the folders."""
    counts = stats.folder_counts()
    context = navigation(None, counts, request.user)
    return render(request, "inbox/home.html", {**context, **_team_home(request, counts)})


def _team_home(request: HttpRequest, counts: stats.FolderCounts) -> dict:
    """The agent's team view on top (its most urgent open mail); staff get a card per team."""
    mine = my_team_folder(request.user)
    rows: list[Email] = []
    if mine.teams:
        rows = list(FolderQuery(mine, QueryDict()).queryset()[:HOME_TEAM_ROWS])
        _decorate(rows)
    cards = []
    if request.user.is_staff:
        for f, _ in team_navigation(request.user, counts):
            if f.key != MY_TEAM:
                cards.append((f, _load(counts, f.teams)))
    return {
        "my_team": mine,
        "my_team_load": _load(counts, mine.teams),
        "my_team_rows": rows,
        "team_cards": cards,
        "routing_threshold": routing_threshold(),
    }


def _load(counts: stats.FolderCounts, slugs: tuple[str, ...]) -> stats.TeamLoad:
    loads = [counts.by_team.get(slug, stats.TeamLoad()) for slug in slugs]
    return stats.TeamLoad(
        open=sum(x.open for x in loads),
        overdue=sum(x.overdue for x in loads),
        urgent=sum(x.urgent for x in loads),
    )


@login_required
def folder(request: HttpRequest, key: str) -> HttpResponse:
    query = FolderQuery(get_folder(key, request.user), request.GET)
    counts = stats.folder_counts()
    context = {
        **navigation(query.folder, counts, request.user),
        **_list_context(request, query, counts),
    }
    return render(request, "inbox/folder.html", context)


def folder_rows(request: HttpRequest, key: str) -> HttpResponse:
    """The list's rows for polling; 204 (htmx keeps the page as is) when nothing changed."""
    if not request.user.is_authenticated:
        # A redirect would be followed by htmx and the login page swapped into the list.
        return HttpResponseClientRedirect(redirect_to_login(get_folder(key).url()).url)
    query = FolderQuery(get_folder(key, request.user), request.GET)
    counts = stats.folder_counts()
    context = _list_context(request, query, counts)
    if request.GET.get("state") == context["state"]:
        return HttpResponse(status=204)
    nav = navigation(query.folder, counts, request.user)
    return render(request, "inbox/_rows.html", {**nav, **context})


@login_required
@require_POST
def relabel(request: HttpRequest) -> HttpResponse:
    """Give every selected email the same intent (one correction each)."""
    query = FolderQuery.from_context(request.GET, request.user)
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
    _decorate(emails)
    # A fingerprint of what the page shows (rows and queue counts), so polling only
    # re-renders when something changed.
    shown = [(e.pk, e.status, e.intent, e.team_id, e.priority, e.first_handled_at) for e in emails]
    shown += [page.paginator.count, sorted(counts.by_status.items())]
    shown += [sorted((k, v.open) for k, v in counts.by_team.items())]
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
        "show_team": not query.folder.teams,
        "routing_threshold": routing_threshold(),
    }


def _decorate(emails: list[Email]) -> None:
    for email in emails:
        email.preview = preview(email)
