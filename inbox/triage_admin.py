"""Django admin for triage: teams, routing rules in the order they are tried, and each
intent's (or family's) team, priority and SLA, with the values that apply shown beside."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Case, Count, Q, Value, When
from django.utils import timezone

from inbox import intents, services, triage
from inbox.models import Email, IntentRoute, Priority, RoutingRule, Team

OPEN = Q(emails__first_handled_at__isnull=True) & Q(
    emails__status__in=[Email.Status.CLASSIFIED, Email.Status.NEEDS_REVIEW, Email.Status.FAILED]
)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "email", "member_count", "open_count", "overdue_count"]
    list_filter = ["is_default"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]
    fields = ["name", "slug", "is_default", "description", "email", "members"]

    def get_queryset(self, request):
        now = timezone.now()
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_members=Count("members", distinct=True),
                n_open=Count("emails", filter=OPEN, distinct=True),
                n_overdue=Count(
                    "emails", filter=OPEN & Q(emails__sla_due_at__lt=now), distinct=True
                ),
            )
        )

    @admin.display(description="members", ordering="n_members")
    def member_count(self, obj: Team) -> int:
        return obj.n_members

    @admin.display(description="open", ordering="n_open")
    def open_count(self, obj: Team) -> int:
        return obj.n_open

    @admin.display(description="overdue", ordering="n_overdue")
    def overdue_count(self, obj: Team) -> int:
        return obj.n_overdue


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """Rules in the order they are tried; the changelist says what happens after them."""

    list_display = [
        "position",
        "enabled",
        "matches",
        "team_or_intents",
        "priority_or_intents",
        "note",
    ]
    list_display_links = ["matches"]
    list_editable = ["position", "enabled"]
    list_filter = ["kind", "enabled", "team"]
    ordering = ["position", "id"]
    fields = ["position", "enabled", "kind", "header", "pattern", "team", "priority", "note"]
    actions = ["reroute_open"]
    change_list_template = "admin/inbox/routingrule/change_list.html"

    @admin.display(description="matches", ordering="kind")
    def matches(self, obj: RoutingRule) -> str:
        if obj.kind == RoutingRule.Kind.HEADER:
            return f"header {obj.header}: {obj.pattern}"
        return f"sender's domain: {obj.pattern}"

    @admin.display(description="team", ordering="team__name")
    def team_or_intents(self, obj: RoutingRule) -> str:
        return obj.team.name if obj.team else "the intent's team"

    @admin.display(description="priority", ordering="priority")
    def priority_or_intents(self, obj: RoutingRule) -> str:
        return obj.get_priority_display() if obj.priority is not None else "the intent's"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            "New mail follows the rules at once; mail already routed keeps its team until "
            "you re-route it (action “Re-route open emails”).",
            messages.INFO,
        )

    @admin.action(description="Re-route open emails with the current rules and routes")
    def reroute_open(self, request, queryset):
        count = services.reroute_open()
        self.message_user(request, f"Re-routed {count} open emails.", messages.SUCCESS)


class KindFilter(admin.SimpleListFilter):
    title = "family"
    parameter_name = "family"

    def lookups(self, request, model_admin):
        return [(name, name) for name in intents.FAMILIES]

    def queryset(self, request, queryset):
        if self.value() in intents.FAMILIES:
            return queryset.filter(key__in=[self.value(), *intents.FAMILIES[self.value()]])
        return queryset


class RouteForm(forms.ModelForm):
    """A list row: plain selects (no add/change icons beside each), blank reads "inherit"."""

    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        required=False,
        empty_label="— inherit —",
        widget=forms.Select(attrs={"style": "max-width: 10em"}),
    )
    priority = forms.TypedChoiceField(
        choices=[("", "— inherit —"), *Priority.choices], coerce=int, empty_value=None,
        required=False, widget=forms.Select(attrs={"style": "max-width: 7.5em"}),
    )  # fmt: skip

    class Meta:
        model = IntentRoute
        fields = ["team", "priority", "sla_minutes"]
        widgets = {"sla_minutes": forms.NumberInput(attrs={"style": "width: 4.5em"})}


@admin.register(IntentRoute)
class IntentRouteAdmin(admin.ModelAdmin):
    """Every family and intent (rows made by the migration); blank means "inherit"."""

    list_display = ["title", "team", "priority", "sla_minutes", "applied"]
    list_editable = ["team", "priority", "sla_minutes"]
    list_filter = [KindFilter, "team"]
    search_fields = ["key"]
    list_per_page = 100
    actions = ["reroute_open"]
    change_list_template = "admin/inbox/intentroute/change_list.html"

    def get_changelist_form(self, request, **kwargs):
        return RouteForm

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("team")

    def get_ordering(self, request):
        families = Case(When(key__in=list(intents.FAMILIES), then=Value(0)), default=Value(1))
        return [families.asc(), "key"]  # the families first, then the intents

    def has_add_permission(self, request):
        return False  # every family and intent has its row

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ["key"] if obj else []

    def changelist_view(self, request, extra_context=None):
        triage.ensure_routes()
        self._policy = triage.load_policy()
        self._now = timezone.now()
        self._teams = dict(Team.objects.values_list("pk", "name"))
        return super().changelist_view(request, extra_context)

    @admin.display(description="intent or family", ordering="key")
    def title(self, obj: IntentRoute) -> str:
        if obj.key in intents.FAMILIES:
            return f"▸ {obj.key} (family)"
        return intents.display_title(obj.key)

    @admin.display(description="what applies")
    def applied(self, obj: IntentRoute) -> str:
        if not intents.is_intent(obj.key):
            team = self._teams.get(obj.team_id) or self._teams.get(
                self._policy.default_team_id, "no team"
            )
            return f"{team} · per intent"
        result = triage.decide(self._policy, intent=obj.key, sender="", start=self._now)
        team = self._teams.get(result.team_id, "no team")
        return f"{team} · {Priority(result.priority).label} · {triage.span(result.sla_due_at - self._now)}"

    @admin.action(description="Re-route open emails with the current rules and routes")
    def reroute_open(self, request, queryset):
        count = services.reroute_open()
        self.message_user(request, f"Re-routed {count} open emails.", messages.SUCCESS)
