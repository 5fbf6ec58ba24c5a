"""Folders: the queues and the 77 intent folders, and the emails each one lists.

A folder is a set of ``EmailFilter`` parameters; listing a folder, polling it, and
finding the previous and next email from an email's page all go through
``FolderQuery``, so the inbox has exactly one way to decide which emails a folder shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import Http404, QueryDict
from django.urls import reverse

from inbox import intents, stats
from inbox.api.filters import EmailFilter
from inbox.models import Email
from inbox.views.forms import ListFilterForm


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
        return counts.status(self.base["status"][0])


def _queue(key: str, title: str, description: str, status: str | None) -> Folder:
    if status is None:
        return Folder(key, title, description)
    return Folder(key, title, description, base={"status": [status]}, status_fixed=True)


QUEUES: dict[str, Folder] = {
    f.key: f
    for f in (
        _queue(
            "review", "Needs review",
            "The model was not sure: confirm its answer or pick the right intent.",
            Email.Status.NEEDS_REVIEW,
        ),
        _queue("unclassified", "Unclassified", "Waiting for the model.", Email.Status.PENDING),
        _queue(
            "failed", "Failed", "The model could not classify these; pick an intent by hand.",
            Email.Status.FAILED,
        ),
        _queue(
            "automatic", "Automatic mail",
            "Auto-replies, bounces and list mail: set aside, never sent to the model, "
            "nothing to do. Pick an intent only if a person wrote one of them.",
            Email.Status.SET_ASIDE,
        ),
        _queue("all", "All mail", "Every email, whatever its status.", None),
    )
}  # fmt: skip


def get_folder(key: str) -> Folder:
    """The folder called ``key`` (a queue or an intent name); 404 when there is none."""
    if key in QUEUES:
        return QUEUES[key]
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

    PARAMS = ("q", "status", "after", "before")

    def __init__(self, folder: Folder, params: QueryDict) -> None:
        self.folder = folder
        data = QueryDict(mutable=True)
        for name in self.PARAMS:
            if name in params:
                data[name] = params[name]
        if "status" not in data and folder.default_status:
            data["status"] = folder.default_status
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
        return filterset.qs.order_by("-received_at", "-id")

    def neighbours(self, email: Email) -> tuple[Email | None, Email | None]:
        """(newer, older): the emails above and below ``email`` in this list."""
        qs = self.queryset()
        at, pk = email.received_at, email.pk
        newer = (
            qs.filter(Q(received_at__gt=at) | Q(received_at=at, id__gt=pk))
            .order_by("received_at", "id")
            .first()
        )
        older = qs.filter(Q(received_at__lt=at) | Q(received_at=at, id__lt=pk)).first()
        return newer, older

    @classmethod
    def from_context(cls, params: QueryDict) -> FolderQuery | None:
        """The list an email was opened from (``?folder=...&q=...``), if any."""
        key = params.get("folder", "")
        try:
            return cls(get_folder(key), params) if key else None
        except Http404:
            return None


@dataclass
class NavFamily:
    name: str
    count: int
    folders: list[tuple[Folder, int]]
    open: bool


def navigation(current: Folder | None, counts: stats.FolderCounts | None = None) -> dict:
    """Template context for the folder sidebar (queues on top, then families)."""
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
    return {"nav_queues": queues, "nav_families": families, "current_folder": current}
