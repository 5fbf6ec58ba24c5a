"""Folders: the queues and the 77 intent folders, and the emails each one lists.

A folder is a set of ``EmailFilter`` parameters; listing a folder, polling it, and
finding the previous and next email from an email's page all go through
``FolderQuery``, so the inbox has exactly one way to decide which emails a folder shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import Http404, QueryDict
from django.urls import reverse

from inbox import intents, stats
from inbox.api.filters import EmailFilter
from inbox.models import Email, Team
from inbox.views.forms import ListFilterForm

# How a folder orders its emails. Work queues: most urgent first, then the one that has
# waited longest (closest to its SLA). Archives (all mail, automatic mail, unclassified):
# newest first.
TRIAGE_ORDER = ("priority", "received_at", "id")
NEWEST_ORDER = ("-received_at", "-id")
MY_TEAM = "mine"
TEAM_PREFIX = "team-"


@dataclass(frozen=True)
class Folder:
    key: str
    title: str
    description: str
    # EmailFilter parameters that define the folder.
    base: dict[str, list[str]] = field(default_factory=dict)
    # Status listed when the agent has not chosen one; None means every status.
    default_status: str | None = None
    # Queues are defined by their status, so their status cannot be changed.
    status_fixed: bool = False
    family: str = ""
    order: tuple[str, ...] = TRIAGE_ORDER
    # Team folders: the teams' slugs, and "open" when they list unhandled mail by default.
    teams: tuple[str, ...] = ()
    default_handled: str = ""

    @property
    def is_intent(self) -> bool:
        return intents.is_intent(self.key)

    def url(self) -> str:
        return reverse("inbox:folder", args=[self.key])

    def count(self, counts: stats.FolderCounts) -> int:
        if self.is_intent:
            return counts.intent(self.key)
        if self.key == "all":
            return counts.total
        if self.teams or self.key == MY_TEAM:
            return sum(counts.team(slug) for slug in self.teams)
        return counts.status(self.base["status"][0])


def _queue(
    key: str, title: str, description: str, status: str | None, newest: bool = False
) -> Folder:
    order = NEWEST_ORDER if newest else TRIAGE_ORDER
    if status is None:
        return Folder(key, title, description, order=order)
    return Folder(
        key, title, description, base={"status": [status]}, status_fixed=True, order=order
    )


QUEUES: dict[str, Folder] = {
    f.key: f
    for f in (
        _queue(
            "review", "Needs review",
            "The model was not sure: confirm its answer or pick the right intent.",
            Email.Status.NEEDS_REVIEW,
        ),
        _queue(
            "unclassified", "Unclassified", "Waiting for the model.", Email.Status.PENDING,
            newest=True,
        ),
        _queue(
            "failed", "Failed", "The model could not classify these; pick an intent by hand.",
            Email.Status.FAILED,
        ),
        _queue(
            "automatic", "Automatic mail",
            "Auto-replies, bounces and list mail: set aside, never sent to the model, "
            "nothing to do. Pick an intent only if a person wrote one of them.",
            Email.Status.SET_ASIDE, newest=True,
        ),
        _queue("all", "All mail", "Every email, whatever its status.", None, newest=True),
    )
}  # fmt: skip


def get_folder(key: str, user: Any = None) -> Folder:
    """The folder called ``key`` (a queue, an intent name, ``team-<slug>`` or ``mine``, the
    teams ``user`` belongs to); 404 when there is none."""
    if key in QUEUES:
        return QUEUES[key]
    if key == MY_TEAM:
        return my_team_folder(user)
    if key.startswith(TEAM_PREFIX):
        slug = key.removeprefix(TEAM_PREFIX)
        team = Team.objects.filter(slug=slug).first()
        if team is not None:
            return team_folder(team)
        if slug == "none":
            return team_folder(None)
        raise Http404("No such team")
    if intents.is_intent(key):
        return Folder(
            key=key,
            title=intents.display_title(key),
            description=intents.description(key),
            base={"intent": [key]},
            default_status=Email.Status.CLASSIFIED,
            family=intents.family(key),
        )
    raise Http404("No such folder")


def _team_base(slugs: tuple[str, ...]) -> dict[str, list[str]]:
    # A user in no team matches nothing ("-" is no slug), rather than every email.
    return {"team": [",".join(slugs) or "-"]}


def team_folder(team: Team | None) -> Folder:
    """A team's view: its mail, most urgent first, open (not handled) unless asked."""
    slug = team.slug if team else "none"
    return Folder(
        key=TEAM_PREFIX + slug,
        title=team.name if team else "No team",
        description=(team.description if team else "")
        or ("Mail routed to this team: most urgent first, then the longest waiting."
            if team else "Mail no rule, route or default team sends anywhere."),
        base=_team_base((slug,)),
        teams=(slug,),
        default_handled="open",
    )  # fmt: skip


def my_team_folder(user: Any) -> Folder:
    """The teams ``user`` is a member of, as one view (empty if none)."""
    teams = list(user.teams.all()) if user is not None and user.is_authenticated else []
    slugs = tuple(t.slug for t in teams)
    if not teams:
        description = "You are in no team yet: an administrator adds you to one (admin › Teams)."
    else:
        names = ", ".join(t.name for t in teams)
        description = f"Mail routed to {names}: most urgent first, then the longest waiting."
    title = teams[0].name if len(teams) == 1 else "My teams"
    return Folder(
        key=MY_TEAM, title=title, description=description, base=_team_base(slugs),
        teams=slugs, default_handled="open",
    )  # fmt: skip


def folder_of(email: Email) -> Folder:
    """The folder an email is listed in right now."""
    if email.status == Email.Status.CLASSIFIED and intents.is_intent(email.intent):
        return get_folder(email.intent)
    for folder in QUEUES.values():
        if folder.base.get("status") == [email.status]:
            return folder
    return QUEUES["all"]


class FolderQuery:
    """One folder with the agent's filters applied: the emails to list, in inbox order."""

    PARAMS = ("q", "status", "after", "before", "handled")

    def __init__(self, folder: Folder, params: QueryDict) -> None:
        self.folder = folder
        data = QueryDict(mutable=True)
        for name in self.PARAMS:
            if name in params:
                data[name] = params[name]
        if "status" not in data and folder.default_status:
            data["status"] = folder.default_status
        if "handled" not in data and folder.default_handled:
            data["handled"] = folder.default_handled
        if folder.status_fixed:
            data.pop("status", None)
        self.form = ListFilterForm(data)
        self.form.is_valid()

    @property
    def params(self) -> dict[str, str]:
        """The agent's filters as they appear in links (empty ones left out)."""
        return {k: v for k, v in self.form.data.items() if v and k in self.form.cleaned_data}

    @property
    def is_filtered(self) -> bool:
        """Whether the agent narrowed the folder beyond what it lists by default."""
        params = dict(self.params)
        if params.get("status") == (self.folder.default_status or ""):
            params.pop("status")
        if params.get("handled") == (self.folder.default_handled or ""):
            params.pop("handled")
        return bool(params)

    def querystring(self, **extra: str) -> str:
        return urlencode({**extra, **self.params})

    def list_url(self) -> str:
        """The folder's list with the agent's filters."""
        qs = self.querystring()
        return f"{self.folder.url()}?{qs}" if qs else self.folder.url()

    def context_querystring(self) -> str:
        """What an email's page needs to find its neighbours in this list."""
        return self.querystring(folder=self.folder.key)

    def queryset(self) -> QuerySet[Email]:
        data = self.form.filter_data()
        for name, values in self.folder.base.items():
            data.setlist(name, values)
        filterset = EmailFilter(data, queryset=Email.objects.all())
        return filterset.qs.select_related("team").order_by(*self.folder.order)

    def neighbours(self, email: Email) -> tuple[Email | None, Email | None]:
        """(above, below): the emails before and after ``email`` in this list's order."""
        qs = self.queryset()
        order = self.folder.order
        reverse_order = [f[1:] if f.startswith("-") else f"-{f}" for f in order]
        above = qs.filter(_beyond(email, reverse_order)).order_by(*reverse_order).first()
        below = qs.filter(_beyond(email, order)).first()
        return above, below

    @classmethod
    def from_context(cls, params: QueryDict, user: Any = None) -> FolderQuery | None:
        """The list an email was opened from (``?folder=...&q=...``), if any."""
        key = params.get("folder", "")
        try:
            return cls(get_folder(key, user), params) if key else None
        except Http404:
            return None


def _beyond(email: Email, order: list[str] | tuple[str, ...]) -> Q:
    """Rows after ``email`` in ``order`` (fields, "-" for descending): a keyset condition."""
    condition = Q(pk__in=[])
    equal = Q()
    for spec in order:
        name = spec.lstrip("-")
        value = getattr(email, name)
        lookup = "lt" if spec.startswith("-") else "gt"
        condition |= equal & Q(**{f"{name}__{lookup}": value})
        equal &= Q(**{name: value})
    return condition


@dataclass
class NavFamily:
    name: str
    count: int
    folders: list[tuple[Folder, int]]
    open: bool


def navigation(
    current: Folder | None, counts: stats.FolderCounts | None = None, user: Any = None
) -> dict:
    """Template context for the folder sidebar (queues on top, then teams and families)."""
    counts = counts or stats.folder_counts()
    queues = [
        (f, f.count(counts))
        for f in QUEUES.values()
        if f.key in ("review", "all") or f.count(counts)
    ]
    families = [
        NavFamily(
            name=name,
            count=counts.family(name),
            folders=[(get_folder(i), counts.intent(i)) for i in names],
            open=bool(current and current.family == name),
        )
        for name, names in intents.FAMILIES.items()
    ]
    return {
        "nav_queues": queues,
        "nav_teams": team_navigation(user, counts),
        "nav_families": families,
        "current_folder": current,
    }


def team_navigation(user: Any, counts: stats.FolderCounts) -> list[tuple[Folder, int]]:
    """Team views in the sidebar: the agent's own first; staff also see every team."""
    if user is None or not user.is_authenticated:
        return []
    mine = my_team_folder(user)
    shown = [(mine, mine.count(counts))] if mine.teams or not user.is_staff else []
    if user.is_staff:
        teams = [team_folder(t) for t in Team.objects.all()]
        if counts.team("none"):
            teams.append(team_folder(None))
        shown += [(f, f.count(counts)) for f in teams if f.teams != mine.teams]
    return shown
