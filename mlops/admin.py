"""Django admin for the model registry: browse versions, promote one, roll back."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html_join

from mlops import lifecycle, lineage
from mlops.models import ModelEvent, ModelVersion, RetrainRun


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "version", "kind", "stage", "val_accuracy", "test_accuracy_pct", "threshold",
        "created_at", "promoted_at",
    ]  # fmt: skip
    list_filter = ["stage", "kind", "created_at"]
    search_fields = ["version", "base_model"]
    ordering = ["-created_at"]
    actions = ["promote_to_production", "roll_back"]
    readonly_fields = [
        "version", "kind", "base_model", "stage", "local_path", "remote_uri", "threshold",
        "lineage", "gate_results", "validation_metrics", "test_metrics", "metadata",
        "created_at", "promoted_at",
    ]  # fmt: skip

    @admin.display(description="lineage")
    def lineage(self, obj: ModelVersion) -> str:
        return format_html_join("\n", "<div><b>{}</b>: {}</div>", lineage.describe(obj))

    @admin.display(description="gates")
    def gate_results(self, obj: ModelVersion) -> str:
        state = getattr(obj, "loop_state", None)
        if state is None or not state.gates:
            return "—"
        marks = {True: "pass", False: "FAIL", None: "waiting"}
        return format_html_join(
            "\n", "<div>[{}] {}: {} (limit {})</div>",
            ((marks[g["passed"]], g["title"], g["value"], g["limit"]) for g in state.gates),
        )  # fmt: skip

    @admin.display(description="val acc")
    def val_accuracy(self, obj: ModelVersion) -> str:
        return _pct(obj.validation_accuracy)

    @admin.display(description="test acc")
    def test_accuracy_pct(self, obj: ModelVersion) -> str:
        return _pct(obj.test_accuracy)

    def has_add_permission(self, request) -> bool:
        return False  # versions come from training or pull_model, with their files

    def has_delete_permission(self, request, obj=None) -> bool:
        # The serving version's row must stay: workers read it on every batch.
        if obj is not None and obj.stage == ModelVersion.Stage.PRODUCTION:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk delete would skip the production check
        return actions

    @admin.action(description="Promote to production", permissions=["change"])
    def promote_to_production(self, request, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to promote.", messages.ERROR)
            return
        version = queryset.get().version
        try:
            row = lifecycle.promote(version)
        except lifecycle.EXPECTED_ERRORS as exc:
            self.message_user(request, f"{version} not promoted: {exc}", messages.ERROR)
            return
        self.message_user(
            request,
            f"{row.version} now serves; workers switch on their next batch.",
            messages.SUCCESS,
        )

    @admin.action(
        description="Roll back to the previous production version", permissions=["change"]
    )
    def roll_back(self, request, queryset) -> None:
        # Django only runs actions on a selection; rolling back ignores which rows it holds.
        try:
            row = lifecycle.rollback()
        except lifecycle.EXPECTED_ERRORS as exc:
            self.message_user(request, f"Not rolled back: {exc}", messages.ERROR)
            return
        self.message_user(request, f"Rolled back: {row.version} serves again.", messages.SUCCESS)


@admin.register(RetrainRun)
class RetrainRunAdmin(admin.ModelAdmin):
    """Retraining cycles, read-only: why each ran, its steps' times, what it produced."""

    list_display = ["id", "created_at", "trigger", "status", "candidate_version", "n_corrections"]
    list_filter = ["status", "trigger"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ModelEvent)
class ModelEventAdmin(admin.ModelAdmin):
    """Promotions, refusals and rollbacks made by the loop, read-only."""

    list_display = ["created_at", "kind", "version", "previous", "reason"]
    list_filter = ["kind"]
    search_fields = ["version", "previous"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
