"""The one place cleaninbox's Prometheus metrics are declared.

Every code path that counts or times something imports its metric from here, so names,
labels and buckets are decided once and a dashboard or alert rule can be checked against
this file. Event metrics (counters and histograms written where the event happens) live
here; figures read from the database at scrape time (backlog, emails per status, the model
in production, drift verdicts) are produced by collectors registered by the exposition
code, not by gauges set from many processes.

Web and worker processes may run several at once: with PROMETHEUS_MULTIPROC_DIR set
(before this module is first imported) prometheus_client writes each process's values to
that folder and the exposition merges them (its multiprocess mode).

Label values are bounded sets (sources, results, statuses, intent names, model versions,
reasons): never an email id, sender or free text.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# The queues workers consume (issue 8); the broker's backlog is reported for each, plus
# Celery's default queue for tasks not routed yet.
QUEUES = ("classify", "imap", "maintenance", "training")

# Latencies from a few milliseconds (one request, one model call) to minutes (a backlog).
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_PIPELINE_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 1.0)

# --- ingestion ---------------------------------------------------------------------------
EMAILS_INGESTED = Counter(
    "cleaninbox_emails_ingested_total",
    "Emails handed to ingestion, by channel and outcome.",
    ["source", "result"],  # source: api|raw|import|imap|admin; result: accepted|duplicate|rejected
)
INGEST_SECONDS = Histogram(
    "cleaninbox_ingest_seconds",
    "Time to store one ingestion call (a single email or one batch), by channel.",
    ["source"],
    buckets=_LATENCY_BUCKETS,
)
INGEST_REFUSED = Counter(
    "cleaninbox_ingest_refused_total",
    "Ingestion calls refused before storing anything (backpressure, throttling).",
    ["reason"],  # backlog|throttled
)

# --- classification ----------------------------------------------------------------------
CLASSIFY_BATCH_SIZE = Histogram(
    "cleaninbox_classify_batch_size",
    "Emails per model call in the workers.",
    buckets=_BATCH_BUCKETS,
)
MODEL_PREDICT_SECONDS = Histogram(
    "cleaninbox_model_predict_seconds",
    "Wall time of one model call (a whole batch), by model kind.",
    ["kind"],
    buckets=_LATENCY_BUCKETS,
)
INGEST_TO_CLASSIFIED_SECONDS = Histogram(
    "cleaninbox_ingest_to_classified_seconds",
    "Time from an email being stored to its classification being written.",
    buckets=_PIPELINE_BUCKETS,
)
EMAILS_CLASSIFIED = Counter(
    "cleaninbox_emails_classified_total",
    "Classification results written, by outcome and model version.",
    ["status", "model_version"],  # status: classified|needs_review
)
CLASSIFICATION_CONFIDENCE = Histogram(
    "cleaninbox_classification_confidence",
    "The model's confidence in the intent it chose.",
    buckets=_CONFIDENCE_BUCKETS,
)
EMAILS_SET_ASIDE = Counter(
    "cleaninbox_emails_set_aside_total",
    "Emails not given a banking intent automatically, by reason "
    "(automatic mail, not English, nothing to classify, outside the known intents, …).",
    ["reason"],
)
CLASSIFY_FAILURES = Counter(
    "cleaninbox_classify_failures_total",
    "Classification attempts that gave up or found no usable model.",
    ["reason"],  # no_model|error
)

# --- agents ------------------------------------------------------------------------------
CORRECTIONS = Counter(
    "cleaninbox_corrections_total",
    "Agents' corrections, by the model's intent, the model version and whether the agent "
    "kept the model's answer.",
    ["model_intent", "model_version", "agreed"],  # agreed: true|false
)

# --- liveness ----------------------------------------------------------------------------
TASK_LAST_RUN = Gauge(
    "cleaninbox_task_last_run_timestamp_seconds",
    "When a periodic task last finished (beat liveness: the sweep runs every minute).",
    ["task"],
    multiprocess_mode="max",
)
WORKER_HEARTBEAT = Gauge(
    "cleaninbox_worker_heartbeat_timestamp_seconds",
    "When a worker process last finished a task or a heartbeat.",
    ["queue"],
    multiprocess_mode="max",
)

# --- Celery tasks (recorded by cleaninbox.monitoring.worker from Celery's signals) -------
CELERY_TASKS = Counter(
    "cleaninbox_celery_tasks_total",
    "Celery tasks finished in the workers, by task name and outcome.",
    ["task", "outcome"],  # outcome: success|failure|retry
)
CELERY_TASK_SECONDS = Histogram(
    "cleaninbox_celery_task_seconds",
    "Wall time of one Celery task in a worker, by task name.",
    ["task"],
    buckets=_LATENCY_BUCKETS,
)

# --- drift -------------------------------------------------------------------------------
DRIFT_SCORE = Gauge(
    "cleaninbox_drift_score",
    "The latest score of each drift check (its own scale; see the Drift page).",
    ["check"],
    multiprocess_mode="mostrecent",
)
DRIFT_ALARM = Gauge(
    "cleaninbox_drift_alarm",
    "1 when the latest run of a drift check crossed its threshold, else 0.",
    ["check"],
    multiprocess_mode="mostrecent",
)

# --- faults ------------------------------------------------------------------------------
SERVICE_UNAVAILABLE = Counter(
    "cleaninbox_service_unavailable_total",
    "Requests answered 503, or served in a degraded mode, because a backing service failed.",
    ["service"],  # database (503) | rate_limit_cache (Redis down: per-process limit)
)

# --- hand-off to a helpdesk (inbox.handoff) ----------------------------------------------
DELIVERIES_QUEUED = Counter(
    "cleaninbox_deliveries_queued_total",
    "Deliveries written to the outbox, by kind and event.",
    ["kind", "event"],  # kind: webhook|email; event: email.routed|email.rerouted
)
DELIVERIES = Counter(
    "cleaninbox_deliveries_total",
    "Delivery attempts, by kind and outcome.",
    ["kind", "outcome"],  # outcome: sent|retrying (will be retried)|failed (out of attempts)
)
DELIVERY_SECONDS = Histogram(
    "cleaninbox_delivery_seconds",
    "Time of one delivery attempt (an HTTP request, an SMTP conversation), by kind.",
    ["kind"],
    buckets=_LATENCY_BUCKETS,
)

# --- read at scrape time ------------------------------------------------------------------
# Figures read from the database and the broker when Prometheus scrapes the web app
# (cleaninbox.monitoring.collectors): declared here by name so every metric of cleaninbox
# is listed in this one file. All are gauges.
SCRAPE_TIME: dict[str, tuple[str, tuple[str, ...]]] = {
    "cleaninbox_emails": ("Emails stored, by status.", ("status",)),
    "cleaninbox_emails_by_family": (
        "Emails holding an intent (classified or waiting for review), by intent family.",
        ("family",),
    ),
    "cleaninbox_emails_pending": ("Emails stored but not classified yet (status pending).", ()),
    "cleaninbox_oldest_pending_age_seconds": (
        "Age of the oldest pending email; 0 when none waits.",
        (),
    ),
    "cleaninbox_queue_length": ("Messages waiting in the broker, by queue.", ("queue",)),
    "cleaninbox_review_share": (
        "Share of the emails classified in the window that were sent to review.",
        ("window",),
    ),
    "cleaninbox_model_available": ("1 when a usable model is in production, else 0.", ()),
    "cleaninbox_model_info": ("The model in production (value 1).", ("version", "kind")),
    "cleaninbox_model_promoted_timestamp_seconds": (
        "When the model in production was promoted.",
        (),
    ),
    "cleaninbox_model_age_seconds": (
        "Age of the model in production, from its registration (training) to now.",
        (),
    ),
    "cleaninbox_sweep_last_run_timestamp_seconds": (
        "When the beat sweep last ran, as recorded in Redis (0: never).",
        (),
    ),
    "cleaninbox_live_classified_emails": (
        "Emails the model classified in the live-accuracy window, by version and intent.",
        ("model_version", "intent"),
    ),
    "cleaninbox_live_reviewed_emails": (
        "Of those, the ones an agent reviewed (accepted or corrected).",
        ("model_version", "intent"),
    ),
    "cleaninbox_live_agreed_emails": (
        "Of the reviewed ones, those whose final intent is the model's.",
        ("model_version", "intent"),
    ),
    "cleaninbox_live_agreement_ratio": (
        "Agreement of reviewed emails per model version, with its 95% Wilson interval "
        "(bound: estimate|lower|upper).",
        ("model_version", "bound"),
    ),
    "cleaninbox_live_reviewed_share": (
        "Share of the version's classified emails an agent has looked at.",
        ("model_version",),
    ),
    "cleaninbox_outbox_pending": (
        "Deliveries waiting in the outbox (first attempt or a retry), by kind.",
        ("kind",),
    ),
    "cleaninbox_outbox_oldest_pending_age_seconds": (
        "Age of the oldest delivery still waiting in the outbox; 0 when none waits.",
        (),
    ),
    "cleaninbox_outbox_failed": (
        "Deliveries that ran out of attempts and wait for a person to retry them, by kind.",
        ("kind",),
    ),
    "cleaninbox_scrape_collect_seconds": (
        "Time the scrape-time collectors spent reading the database and the broker.",
        (),
    ),
    # --- triage: SLAs (inbox.triage; collected by collectors.sla) ------------------------
    "cleaninbox_sla_open_emails": (
        "Emails with an SLA that no agent has handled yet, by team slug and priority.",
        ("team", "priority"),
    ),
    "cleaninbox_sla_breached_emails": (
        "Of those, the ones past their SLA deadline (open breaches), by team and priority.",
        ("team", "priority"),
    ),
    "cleaninbox_sla_oldest_breach_seconds": (
        "How long the oldest open breach has been past its deadline (0: none).",
        (),
    ),
    "cleaninbox_sla_handled_late_ratio": (
        "Share of the emails first handled in the last 24 hours that were handled after "
        "their deadline, by team (absent: none handled).",
        ("team",),
    ),
}

# --- "why this intent" (classifier.explanations) -----------------------------------------
EXPLANATIONS = Counter(
    "cleaninbox_explanations_total",
    "Explanations asked for, by outcome.",
    ["result"],  # computed|cached|no_model|not_classified
)
EXPLANATION_SECONDS = Histogram(
    "cleaninbox_explanation_seconds",
    "Time to compute one explanation (occlusion batch and neighbour search), by model kind.",
    ["kind"],
    buckets=_LATENCY_BUCKETS,
)
EXPLANATION_FLAGS = Counter(
    "cleaninbox_explanation_flags_total",
    "Explanations agents flagged as misleading, by model version.",
    ["model_version"],
)
# --- the closed loop (issue 13: mlops.retrain, mlops.shadow, mlops.promotion) ------------
RETRAIN_RUNS = Counter(
    "cleaninbox_retrain_runs_total",
    "Retraining cycles finished, by outcome.",
    ["outcome"],  # succeeded|failed
)
GATE_DECISIONS = Counter(
    "cleaninbox_model_gate_decisions_total",
    "Candidates decided by the promotion gates.",
    ["verdict"],  # promoted|refused
)
SHADOW_PREDICTIONS = Counter(
    "cleaninbox_shadow_predictions_total",
    "Live emails answered by the candidate in shadow.",
    ["model_version"],
)
MODEL_ROLLBACKS = Counter(
    "cleaninbox_model_rollbacks_total",
    "Automatic rollbacks of a newly promoted version that degraded live.",
    ["model_version"],  # the version taken out of production
)
# Read at scrape time from the loop's event log (mlops.models.ModelEvent), so a worker
# restart cannot lose it: the CleaninboxModelRolledBack alert fires for hours after one.
SCRAPE_TIME["cleaninbox_model_last_rollback_timestamp_seconds"] = (
    "When the loop last rolled a degrading version back (0: never).",
    (),
)
