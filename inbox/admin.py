"""Django admin for emails: list, filter, search, relabel many at once, re-queue."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from inbox import intents, services
from inbox import triage_admin as triage_admin  # registers teams, rules and routes
from inbox.handoff import admin as handoff_admin  # noqa: F401  (registers the hand-off's admin)
from inbox.models import Correction, Email, ExplanationFlag


class RelabelForm(forms.Form):
    intent = forms.ChoiceField(choices=[(name, intents.title(name)) for name in intents.LABELS])


class EmailAdminForm(forms.ModelForm):
    intent = forms.ChoiceField(
        choices=[("", "—")] + [(name, intents.title(name)) for name in intents.LABELS],
        required=False,
        help_text="Changing the intent records a correction.",
    )

    class Meta:
        model = Email
        exclude: list[str] = []  # the admin's fieldsets decide what shows


class CorrectionInline(admin.TabularInline):
    model = Correction
    extra = 0
    can_delete = False
    fields = [
        "created_at",
        "user",
        "previous_intent",
        "new_intent",
        "model_intent",
        "model_confidence",
        "model_version",
        "via",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = [
        "subject_or_none",
        "sender",
        "intent",
        "confidence_pct",
        "status",
        "received_at",
        "model_version",
    ]
    list_filter = ["status", "source", "received_at", "intent", "model_version"]
    search_fields = ["subject", "body_text", "sender", "message_id"]
    date_hierarchy = "received_at"
    actions = ["relabel", "requeue_classification"]
    inlines = [CorrectionInline]
    form = EmailAdminForm
    readonly_fields = [
        "message_id",
        "ingested_at",
        "predicted_intent",
        "confidence",
        "top_k",
        "model_version",
        "classified_at",
        "attempts",
        "last_error",
        "corrected_at",
        "corrected_by",
        "model_input",
        "thread_root",
        "parse_defects",
        "parse_notices",
        "attachments",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "message_id",
                    "sender",
                    "sender_name",
                    "recipients",
                    "subject",
                    "received_at",
                    "ingested_at",
                    "source",
                ]
            },
        ),
        ("Content", {"fields": ["body_text", "body_html", "attachments"]}),
        ("What the model saw", {"fields": ["model_input"]}),
        (
            "Classification",
            {
                "fields": [
                    "status",
                    "intent",
                    "predicted_intent",
                    "confidence",
                    "top_k",
                    "model_version",
                    "classified_at",
                    "attempts",
                    "last_error",
                ]
            },
        ),
        ("Review", {"fields": ["corrected_at", "corrected_by"]}),
        (
            "Thread",
            {
                "fields": [
                    "in_reply_to",
                    "references",
                    "thread_root",
                    "parse_defects",
                    "parse_notices",
                ]
            },
        ),
    ]

    @admin.display(description="subject", ordering="subject")
    def subject_or_none(self, obj: Email) -> str:
        return obj.subject or "(no subject)"

    @admin.display(description="confidence", ordering="confidence")
    def confidence_pct(self, obj: Email) -> str:
        return "—" if obj.confidence is None else f"{obj.confidence:.0%}"

    def save_model(self, request, obj, form, change):
        # An intent picked in the change form is a correction, stored like the API stores it.
        if change and "intent" in form.changed_data and obj.intent:
            new_intent = obj.intent
            obj.intent = form.initial.get("intent", "")
            super().save_model(request, obj, form, change)
            services.record_correction(obj, new_intent, request.user, via="admin")
            return
        super().save_model(request, obj, form, change)

    @admin.action(description="Relabel selected emails…")
    def relabel(self, request, queryset):
        if "apply" in request.POST:
            form = RelabelForm(request.POST)
            if form.is_valid():
                count = services.relabel_many(
                    queryset, form.cleaned_data["intent"], request.user, via="admin"
                )
                self.message_user(
                    request,
                    f"Relabelled {count} emails as {intents.title(form.cleaned_data['intent'])}.",
                    messages.SUCCESS,
                )
                return None
        else:
            form = RelabelForm()
        return TemplateResponse(
            request,
            "admin/inbox/relabel.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "emails": queryset,
                "opts": self.model._meta,
                "title": "Relabel emails",
            },
        )

    @admin.action(description="Re-queue classification")
    def requeue_classification(self, request, queryset):
        count = services.requeue(queryset)
        self.message_user(
            request, f"Queued {count} emails for classification (corrected ones are kept)."
        )


@admin.register(Correction)
class CorrectionAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "previous_intent",
        "new_intent",
        "model_intent",
        "user",
        "created_at",
        "via",
    ]
    list_filter = ["via", "created_at", "new_intent"]
    search_fields = ["email__subject", "new_intent", "model_intent", "user__username"]
    readonly_fields = [f.name for f in Correction._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ExplanationFlag)
class ExplanationFlagAdmin(admin.ModelAdmin):
    """Explanations agents found misleading; the filter counts them per model version."""

    list_display = ("created_at", "email", "model_version", "user", "reason")
    list_filter = ("model_version", "created_at")
    show_facets = admin.ShowFacets.ALWAYS  # counts beside each version in the filter
    search_fields = ("reason", "email__subject")
    raw_id_fields = ("email",)
    readonly_fields = ("email", "user", "model_version", "reason", "created_at")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False  # flags come from agents on the email page or the API
