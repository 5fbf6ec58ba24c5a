"""Seed a throw-away database with a stream of mail that drifts, run the drift checks over
it, and take a screenshot of the Drift page with headless Chromium (docs/drift-page.png).

    .venv/bin/python scripts/drift_screenshot.py --model var/models/VERSION \
        [--data var/data/banking77] [--out docs/drift-page.png]

The stream: 2,500 emails like the training data, one every four minutes, then 1,000 in
which half the mail is about card payments failing (as in an outage) and a tenth is not in
English. A drift check runs every 250 emails on the last 500. Everything is written to a
temporary folder (SQLite database, reports); the model is only read.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "drift-demo-pass-123"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=REPO / "var" / "data" / "banking77")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "drift-page.png")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="drift-demo-"))
    env = {
        "DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
        "CLEANINBOX_REPORTS_DIR": str(tmp / "reports"),
        "CLEANINBOX_MODEL_DIR": str(tmp / "models"),
        "CLEANINBOX_DATA_DIR": str(args.data.resolve()),
        "CLEANINBOX_DRIFT_INTERVAL": "0",
        "DJANGO_SETTINGS_MODULE": "cleaninbox.settings",
        "DEBUG": "true",
    }
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    seed(args.model.resolve(), args.data.resolve())
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port)
        shoot(f"http://127.0.0.1:{port}", args.out)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"screenshot: {args.out}")


def seed(model_path: Path, data_dir: Path) -> None:
    import django

    django.setup()
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from classifier import artifact
    from inbox.models import Email
    from mlops import drift_runs, registry
    from mlops.tests import drift_streams as ds

    call_command("migrate", verbosity=0)
    get_user_model().objects.create_user("agent", "agent@bank.example", PASSWORD)
    registry.promote(registry.register(model_path).version)
    model = artifact.load(model_path)
    pools = ds.test_pools(model, data_dir)
    rng = np.random.default_rng(12)
    texts = [t for _ in range(5) for t in ds.in_distribution(pools, 500, rng)]
    outage = ds.shifted("few_intents", pools, 1000, rng)
    foreign = ds.shifted("another_language", pools, 1000, rng)
    normal = [t for _ in range(2) for t in ds.in_distribution(pools, 500, rng)]
    for i in range(1000):
        roll = rng.random()
        texts.append(outage[i] if roll < 0.5 else foreign[i] if roll < 0.6 else normal[i])
    start = timezone.now() - timedelta(minutes=4 * len(texts))
    Email.objects.bulk_create(
        Email(
            message_id=f"<demo-{i}@customer.example>",
            sender=f"c{i}@mail.example",
            body_text=text,
            model_input=text,
            received_at=start + timedelta(minutes=4 * i),
            status=Email.Status.CLASSIFIED,
        )  # fmt: skip
        for i, text in enumerate(texts)
    )
    for end in range(1000, len(texts) + 1, 250):
        until = start + timedelta(minutes=4 * end - 1)
        run = drift_runs.run_drift_check(drift_runs.WindowSpec(last=500, until=until))
        print(f"run {run.pk}: window ending {until:%d %b %H:%M}: {run.drifted or 'no drift'}")


def shoot(base: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", "agent")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit], input[type=submit]")
        page.get_by_role("link", name="Drift").click()
        page.wait_for_selector("#drift-checks")
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # lazy images load
        page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar belongs at the top
        page.screenshot(path=str(out), full_page=True)
        browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not start on port {port}")


if __name__ == "__main__":
    main()
