"""The Overview's top confusions: which intents the model mixes up, as a readable table.

A 77×77 matrix cannot be read at page size; the few cells that matter can. Read from the
evaluation's ``report.json`` (written by ``mlops.lifecycle`` beside the plots).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

REPORT_FILE = "report.json"
SHOWN = 10


def top_confusions(version: str, limit: int = SHOWN) -> dict | None:
    """The ``limit`` largest off-diagonal cells of ``version``'s test confusion matrix:
    true intent, predicted intent, count, and the count's share of the true intent's test
    emails (and the reverse count); None when the version was never evaluated."""
    root = Path(settings.CLEANINBOX_REPORTS_DIR).resolve()
    path = (root / version / REPORT_FILE).resolve()
    if path.parent.parent != root or not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        support = {row["label"]: int(row["support"]) for row in report.get("per_intent", [])}
        rows = [
            {
                "true": c["true_label"],
                "predicted": c["predicted_label"],
                "count": int(c["count"]),
                "reverse": int(c.get("reverse_count", 0)),
                "share": int(c["count"]) / support[c["true_label"]]
                if support.get(c["true_label"])
                else None,
            }
            for c in report.get("confusions", [])[:limit]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # an unreadable report hides the table, not the page
    errors = int(report.get("n", 0)) - round(float(report.get("accuracy", 0)) * report.get("n", 0))
    return {"rows": rows, "n": report.get("n"), "errors": errors}
