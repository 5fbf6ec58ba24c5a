"""Admin for the hand-off: webhook endpoints, the delivery log (retry by hand), canned replies."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from inbox import intents
from inbox.handoff import canned, outbox
from inbox.handoff.models import EVENTS, CannedReply, Delivery, WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=2000, assume_scheme="https", help_text="Where routed emails are POSTed."
    )
    events = forms.MultipleChoiceField(choices=EVENTS, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "teams", "events", "active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "team_filter", "active", "created_at"]
    list_filter = ["active"]
    filter_horizontal = ["teams"]

    @admin.display(description="teams")
    def team_filter(self, obj: WebhookEndpoint) -> str:
        return ", ".join(t.name for t in obj.teams.all()) or "every team"


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at", "email_link", "event", "kind", "destination", "status", "attempts",
        "next_attempt_at", "short_error",
    ]  # fmt: skip
    list_filter = ["status", "kind", "event", "endpoint", "created_at"]
    search_fields = ["destination", "uuid", "email__subject", "email__sender"]
    list_select_related = ["email"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="email", ordering="email")
    def email_link(self, obj: Delivery):
        url = reverse("inbox:email", args=[obj.email_id])
        return format_html('<a href="{}">#{}</a>', url, obj.email_id)

    @admin.display(description="last error")
    def short_error(self, obj: Delivery) -> str:
        return obj.last_error[:80]

    @admin.action(description="Retry selected failed deliveries now", permissions=["view"])
    def retry_now(self, request, queryset):
        count = outbox.retry(queryset.filter(status=Delivery.Status.FAILED))
        level = messages.SUCCESS if count else messages.WARNING
        self.message_user(request, f"{count} failed deliveries queued again.", level)


class CannedReplyForm(forms.ModelForm):
    intent = forms.ChoiceField(choices=[(n, intents.title(n)) for n in intents.LABELS])
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}),
        validators=[canned.validate_template],
        help_text="Fields: " + ", ".join("{{ " + name + " }}" for name in canned.FIELDS),
    )

    class Meta:
        model = CannedReply
        fields = ["intent", "title", "body", "active"]


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    form = CannedReplyForm
    list_display = ["title", "intent", "active", "updated_at"]
    list_filter = ["active", "intent"]
    search_fields = ["title", "body", "intent"]
