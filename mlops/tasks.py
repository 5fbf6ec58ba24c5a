"""Scheduled model-monitoring work (Celery beat, queue "maintenance").

The queue is named where the task is sent (the beat entry's options in settings, and the
task routes for ``mlops.tasks.*``), not on the decorator: Celery deprecates the ``queue``
task attribute in favour of routes.
"""

from __future__ import annotations

from celery import shared_task

# A run reads one window (500 emails by default) through the model: seconds with ONNX.
DRIFT_SOFT_TIME_LIMIT = 600
DRIFT_TIME_LIMIT = 660


@shared_task(
    ignore_result=True,
    soft_time_limit=DRIFT_SOFT_TIME_LIMIT,
    time_limit=DRIFT_TIME_LIMIT,
)
def check_drift() -> int | None:
    """Compare the last CLEANINBOX_DRIFT_WINDOW emails with the training data; returns the
    stored run's id, or None when nothing arrived since the last run."""
    from django.conf import settings

    from mlops import drift_runs

    try:
        run = drift_runs.run_drift_check(
            drift_runs.WindowSpec(last=settings.CLEANINBOX_DRIFT_WINDOW),
            trigger="beat",
            skip_if_unchanged=True,
        )
    except drift_runs.DriftError as exc:
        # No model or no data yet is a state, not a failure worth a retry storm.
        drift_runs.logger.warning("drift check skipped", extra={"reason": str(exc)})
        return None
    return run.pk if run else None


@shared_task(ignore_result=True, soft_time_limit=600, time_limit=660)
def build_explanation_index(version: str) -> str | None:
    """Score the training split with ``version`` once, for the explanation panel's
    neighbours (queued by classifier.explanations the first time a version is explained)."""
    from mlops import explain_index, lifecycle

    try:
        path = explain_index.build_index(version)
    except (explain_index.IndexUnavailable, *lifecycle.EXPECTED_ERRORS) as exc:
        # No data here, or no such version: a state to log, not a failure to retry.
        explain_index.logger.warning(
            "explanation index not built", extra={"model_version": version, "error": str(exc)}
        )
        return None
    explain_index.logger.info("explanation index built", extra={"model_version": version})
    return str(path)


# --- the closed loop (mlops.retrain, mlops.shadow, mlops.promotion) ----------------------


# A cycle with the default recipe takes ~10-15 min on two cores (README); the global task
# limit (5 min) would kill it.
RETRAIN_SOFT_TIME_LIMIT = 2 * 3600
RETRAIN_TIME_LIMIT = RETRAIN_SOFT_TIME_LIMIT + 120


@shared_task(
    ignore_result=True, soft_time_limit=RETRAIN_SOFT_TIME_LIMIT, time_limit=RETRAIN_TIME_LIMIT
)
def retrain_if_due() -> str | None:
    """Beat, queue "training": one retraining cycle if the policy calls for it; returns the
    candidate's version. Not retried: the next beat tick asks the policy again, which also
    covers a worker that died mid-cycle (its run is then marked abandoned)."""
    from mlops import retrain

    try:
        decision, run = retrain.run(trigger="beat")
    except retrain.Busy:
        retrain.logger.info("retrain already running; this tick is skipped")
        return None
    return run.candidate_version if run else None


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=180)
def shadow_pending() -> int:
    """Queue "maintenance": the candidate in shadow answers what production classified."""
    from mlops import shadow

    return shadow.predict_pending()


@shared_task(ignore_result=True, soft_time_limit=540, time_limit=600)
def check_model_loop() -> None:
    """Beat, queue "maintenance": catch up the shadow, check candidates' gates (promote or
    refuse), and roll back a newly promoted version that degrades live."""
    from mlops import promotion, shadow

    shadow.predict_pending()
    promotion.check_candidates()
    promotion.watch_production()
