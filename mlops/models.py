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


class DriftRun(models.Model):
    """One drift check of one window of recent mail (see mlops.drift for the checks)."""

    class Trigger(models.TextChoices):
        BEAT = "beat", "Scheduled"
        COMMAND = "command", "Command"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.BEAT)
    # The window: its emails' received_at range and ids, whichever way it was chosen.
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    first_email_id = models.BigIntegerField(null=True, blank=True)
    last_email_id = models.BigIntegerField(null=True, blank=True)
    n_emails = models.PositiveIntegerField(default=0)
    n_previous = models.PositiveIntegerField(default=0)
    model_version = models.CharField(max_length=128, blank=True)
    data_manifest_sha256 = models.CharField(max_length=64, blank=True)
    alpha = models.FloatField()
    alarm = models.BooleanField(default=False)
    drifted = models.JSONField(default=list, blank=True)  # names of the checks that drifted
    duration_seconds = models.FloatField(default=0.0)
    summary = models.JSONField(default=dict, blank=True)  # counts and histograms for the plots
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        state = "alarm" if self.alarm else "ok"
        return f"drift run {self.pk} ({self.n_emails} emails, {state})"


class DriftCheck(models.Model):
    """One check's answer in one run: score, p-value, the threshold it had to beat, verdict."""

    run = models.ForeignKey(DriftRun, on_delete=models.CASCADE, related_name="checks")
    name = models.CharField(max_length=32)
    score = models.FloatField(null=True, blank=True)
    p_value = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    verdict = models.CharField(max_length=32)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="one_check_per_run")]

    def __str__(self) -> str:
        return f"{self.name}: {self.verdict}"


# --- the closed loop (issue 13): retraining runs, shadow answers, gates, events ----------


class RetrainRun(models.Model):
    """One pass of the retraining policy: why it ran, each step's time, what it produced.

    The row is also the lock's record: at most one run is ``running`` (a partial unique
    index), and the run holds a PostgreSQL advisory lock for its whole life. A worker that
    dies releases the advisory lock with its connection; the next run finds the row still
    ``running`` without a holder and marks it ``abandoned`` (see mlops.retrain).
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Candidate registered"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned (worker died)"

    class Trigger(models.TextChoices):
        BEAT = "beat", "Scheduled"
        COMMAND = "command", "Command"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.BEAT)
    reasons = models.JSONField(default=list, blank=True)  # why the policy said "retrain"
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    host = models.CharField(max_length=255, blank=True)  # worker hostname and pid
    parent_version = models.CharField(max_length=128, blank=True)  # production at the start
    candidate_version = models.CharField(max_length=128, blank=True)  # the serving variant
    trained_version = models.CharField(max_length=128, blank=True)  # the torch source
    n_corrections = models.PositiveIntegerField(default=0)
    steps = models.JSONField(default=dict, blank=True)  # step name -> seconds
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="running"),
                name="one_running_retrain",
            )
        ]

    def __str__(self) -> str:
        return f"retrain {self.pk} ({self.status})"

    STEPS = ("data", "train", "evaluate", "export", "gates", "publish")

    @property
    def ordered_steps(self) -> list[tuple[str, float]]:
        """(step, seconds) in the order they run (jsonb does not keep key order)."""
        return [(name, self.steps[name]) for name in self.STEPS if name in self.steps]


class CandidateState(models.Model):
    """A candidate's place in the loop: shadowing, its gate results, the verdict.

    Kept beside ModelVersion (one row per candidate) rather than in it, because
    ``registry.register`` rewrites a version's row from its files.
    """

    class Verdict(models.TextChoices):
        PENDING = "pending", "Waiting (shadow sample)"
        PROMOTED = "promoted", "Promoted"
        REFUSED = "refused", "Refused"

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, related_name="loop_state"
    )
    retrain_run = models.ForeignKey(
        RetrainRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="candidates"
    )
    shadow = models.BooleanField(default=False, db_index=True)
    shadow_started_at = models.DateTimeField(null=True, blank=True)
    shadow_stopped_at = models.DateTimeField(null=True, blank=True)
    # Gates measured once on the test split (mlops.gates.offline) and on each check.
    offline = models.JSONField(default=dict, blank=True)
    gates = models.JSONField(default=list, blank=True)  # [GateResult.as_dict(), ...]
    verdict = models.CharField(max_length=16, choices=Verdict.choices, default=Verdict.PENDING)
    reason = models.TextField(blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.version.version}: {self.verdict}"


class ShadowPrediction(models.Model):
    """A candidate's answer for a live email, beside production's answer for it."""

    email = models.ForeignKey("inbox.Email", on_delete=models.CASCADE, related_name="shadow")
    model_version = models.CharField(max_length=128)  # the candidate
    intent = models.CharField(max_length=64)
    confidence = models.FloatField()
    production_version = models.CharField(max_length=128, blank=True)
    production_intent = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "email"], name="one_shadow_answer_per_email"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_version} on email {self.email_id}: {self.intent}"


class ModelEvent(models.Model):
    """What the loop did to which version and why: shown on the Models page and admin."""

    class Kind(models.TextChoices):
        CANDIDATE = "candidate", "Candidate registered"
        SHADOW = "shadow", "Shadow started"
        PROMOTED = "promoted", "Promoted (all gates passed)"
        REFUSED = "refused", "Refused by a gate"
        ROLLED_BACK = "rolled_back", "Rolled back"
        RETRAIN_FAILED = "retrain_failed", "Retraining failed"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    version = models.CharField(max_length=128)
    previous = models.CharField(max_length=128, blank=True)
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.version}"
