"""Every metric name cleaninbox exposes, for checking rules and dashboards against."""

from __future__ import annotations

import re

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.metrics import MetricWrapperBase

from cleaninbox import metrics

PROMQL_FUNCTIONS_AND_WORDS = {"le", "by", "without", "and", "or", "unless", "on", "ignoring"}
# Metric names in a PromQL expression: identifiers not followed by "(" (functions).
_NAME = re.compile(r"\b([a-z_][a-z0-9_]*)\b(?!\s*\()")


def exposed_names() -> set[str]:
    """Sample names of the cleaninbox metrics, the scrape-time figures, django-prometheus's
    metrics and Prometheus's own `up`."""
    names = {"up"}
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            base = value._name
            if isinstance(value, Counter):
                names.add(f"{base}_total")
            elif isinstance(value, Histogram):
                names.update(f"{base}_{s}" for s in ("bucket", "sum", "count"))
            else:
                names.add(base)
    names.update(metrics.SCRAPE_TIME)
    from django_prometheus.middleware import Metrics

    Metrics.get_instance()  # declares the request metrics (the middleware does it on start)

    for family in REGISTRY.collect():
        if family.name.startswith("django_"):
            names.update(sample.name for sample in family.samples)
            names.update(f"{family.name}{s}" for s in ("", "_total", "_bucket", "_sum", "_count"))
    return names


def referenced_metrics(expr: str) -> set[str]:
    """Names in a PromQL expression that look like cleaninbox, Django or `up` metrics."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    return {
        name
        for name in _NAME.findall(without_labels)
        if name.startswith(("cleaninbox_", "django_")) or name == "up"
    }
