"""The alerting rules and the Grafana dashboard shipped in monitoring/: valid, unit-tested
with promtool, and referring only to metrics cleaninbox exposes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.monitoring.known import exposed_names, referenced_metrics

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


@pytest.fixture(scope="module")
def promtool():
    if not Path(PROMTOOL).exists():
        pytest.skip("promtool is not installed (Debian package prometheus)")
    return PROMTOOL


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=MONITORING)


def test_the_rules_pass_promtool_check(promtool):
    result = run(promtool, "check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 12 rules found" in result.stdout


def test_the_rules_pass_their_unit_tests(promtool):
    result = run(promtool, "test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_unit_tests_fail_on_a_broken_rule(promtool, tmp_path):
    """The promtool tests can fail: raise the review threshold and one of them must."""
    rules = (
        (MONITORING / "alerts.yml")
        .read_text()
        .replace(
            'cleaninbox_review_share{window="1h"} > 0.3',
            'cleaninbox_review_share{window="1h"} > 0.6',
        )
    )
    (tmp_path / "alerts.yml").write_text(rules)
    shutil.copy(MONITORING / "alerts_test.yml", tmp_path)
    result = subprocess.run(
        [promtool, "test", "rules", "alerts_test.yml"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode != 0
    assert "CleaninboxReviewRateHigh" in result.stdout + result.stderr


def test_the_prometheus_config_is_valid(promtool):
    result = run(promtool, "check", "config", "--syntax-only", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_the_issue_asks_for_is_there():
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {
        "CleaninboxWorkerDown", "CleaninboxBacklogGrowing", "CleaninboxSlowClassification",
        "CleaninboxReviewRateHigh", "CleaninboxDriftAlarm", "CleaninboxNoModel",
    } <= names  # fmt: skip


def test_rules_refer_only_to_exposed_metrics():
    known = exposed_names()
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    for rule in (r for g in rules["groups"] for r in g["rules"]):
        unknown = referenced_metrics(rule["expr"]) - known
        assert not unknown, f"{rule['alert']} uses unknown metrics {unknown}"


def test_the_dashboard_parses_and_uses_only_exposed_metrics():
    dashboard = json.loads((MONITORING / "grafana/dashboards/cleaninbox.json").read_text())
    known = exposed_names()
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 15
    used = set()
    for expr in exprs:
        names = referenced_metrics(expr)
        assert names, f"no metric in {expr!r}"
        assert not names - known, f"unknown metrics {names - known} in {expr!r}"
        used |= names
    # The main figures of the issue are on it.
    for name in (
        "cleaninbox_emails_ingested_total", "cleaninbox_emails_pending",
        "cleaninbox_ingest_to_classified_seconds_bucket", "cleaninbox_review_share",
        "cleaninbox_live_agreement_ratio", "cleaninbox_model_info", "cleaninbox_drift_score",
    ):  # fmt: skip
        assert name in used


def test_the_name_check_catches_a_typo():
    assert referenced_metrics('sum(rate(cleaninbox_emails_ingestd_total{a="b"}[5m]))') == {
        "cleaninbox_emails_ingestd_total"
    }
    assert "cleaninbox_emails_ingestd_total" not in exposed_names()
