"""The registry's table: one row per model version, its stage and its figures."""

from __future__ import annotations

from django.db import models


class ModelVersion(models.Model):
    class Stage(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        PRODUCTION = "production", "Production"
        ARCHIVED = "archived", "Archived"

    version = models.CharField(max_length=128, unique=True)
    kind = models.CharField(max_length=32)
    base_model = models.CharField(max_length=255, blank=True)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.CANDIDATE)
    local_path = models.CharField(max_length=1024, blank=True)
    remote_uri = models.CharField(max_length=1024, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    validation_metrics = models.JSONField(default=dict, blank=True)
    test_metrics = models.JSONField(default=dict, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one version serves at a time.
            models.UniqueConstraint(
                fields=["stage"],
                condition=models.Q(stage="production"),
                name="one_production_model",
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.stage})"

    @property
    def test_accuracy(self) -> float | None:
        return self.test_metrics.get("accuracy")

    @property
    def validation_accuracy(self) -> float | None:
        return self.validation_metrics.get("accuracy")

    # The auto-routing promise, made on validation, and what test measured at its threshold.
    @property
    def target_error(self) -> float | None:
        return self.validation_metrics.get("target_error")

    @property
    def promised_error(self) -> float | None:
        """Upper confidence bound on the error among auto-routed emails (validation)."""
        return self.validation_metrics.get("promised_error")

    @property
    def promise_probability(self) -> float | None:
        delta = self.validation_metrics.get("threshold_delta")
        return None if delta is None else 1 - delta

    @property
    def test_routing(self) -> dict[str, float | None]:
        """Share auto-routed and error among them on test, bare and email-shaped."""
        m = self.test_metrics
        return {
            "coverage": m.get("at_threshold_coverage"),
            "error": m.get("at_threshold_error"),
            "email_coverage": m.get("email_shaped_coverage"),
            "email_error": m.get("email_shaped_error"),
        }
