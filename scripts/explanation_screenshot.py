"""Screenshot the email page's "Why this intent" panel with a real model (docs/).

    .venv/bin/python scripts/explanation_screenshot.py --model var/models/VERSION-onnx-int8 \
        [--data var/data/banking77] [--out docs/explanation-panel.png]

Everything is written to a temporary folder (SQLite database, the explanation index);
the model is only read. One customer email (a reply with a quote and a signature) is
ingested, classified by the model and explained in headless Chromium.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from drift_screenshot import _free_port, _wait_for_port  # noqa: E402

PASSWORD = "explain-demo-pass-123"
RAW = b"""From: Dana Whitfield <dana.whitfield@mail.example>
To: support@bank.example
Subject: Re: Your new card is on its way
Message-ID: <explain-demo-1@mail.example>
Date: Sat, 05 Dec 2026 09:12:00 +0000
Content-Type: text/plain; charset=utf-8

Hi team,

I ordered a replacement card ten days ago and I still haven't got it. How much longer will it take to arrive?

Thanks,
Dana

On Tue, 24 Nov 2026 at 10:02, Support <support@bank.example> wrote:
> Your new card is on its way and should arrive within 3-5 working days.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=REPO / "var" / "data" / "banking77")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "explanation-panel.png")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="explain-demo-"))
    env = {
        "DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
        "CLEANINBOX_REPORTS_DIR": str(tmp / "reports"),
        "CLEANINBOX_MODEL_DIR": str(tmp / "models"),
        "CLEANINBOX_EXPLAIN_INDEX_DIR": str(tmp / "explain"),
        "CLEANINBOX_DATA_DIR": str(args.data.resolve()),
        "DJANGO_SETTINGS_MODULE": "cleaninbox.settings",
        "DEBUG": "true",
    }
    os.environ.update(env)
    email_id = seed(args.model.resolve(), args.data.resolve())
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port)
        shoot(f"http://127.0.0.1:{port}", email_id, args.out)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"screenshot: {args.out}")


def seed(model_path: Path, data_dir: Path) -> int:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from classifier.services import classify_emails
    from inbox.ingest_raw import ingest_raw
    from inbox.models import Email
    from mlops import explain_index, registry

    call_command("migrate", verbosity=0)
    get_user_model().objects.create_user("agent", "agent@bank.example", PASSWORD)
    version = registry.promote(registry.register(model_path).version).version
    print("index:", explain_index.build_index(version, data_dir))
    outcome = ingest_raw(RAW, Email.Source.RAW, label="demo")
    classify_emails([outcome.email.pk])
    email = Email.objects.get(pk=outcome.email.pk)
    print(f"classified: {email.predicted_intent} ({email.confidence:.1%}), {email.status}")
    return email.pk


def shoot(base: str, email_id: int, out: Path) -> None:
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
        page.goto(f"{base}/emails/{email_id}/")
        page.click("#explanation summary")
        page.wait_for_selector("#neighbours, #neighbours-pending", timeout=60_000)
        page.screenshot(path=str(out), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
