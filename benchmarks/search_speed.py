"""Search speed on a realistic inbox, with and without the trigram index.

    .venv/bin/python benchmarks/search_speed.py            # 15,000 emails
    .venv/bin/python benchmarks/search_speed.py -n 5000

On a private PostgreSQL (tests.localservices; the shared server is not touched) it migrates
a database, stores n emails (BANKING77 training queries as text, wrapped in a typical
greeting, quoted thread and signature, about 1 KB each), then times the inbox's search
(inbox.api.filters.search_emails: the count and the first page, as a list view does) for
queries from one word up to the bounds (10 words, 200 characters), first with migration
inbox/0003's trigram index and then with it dropped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import localservices  # noqa: E402

QUERIES = {
    "1 word": "refund",
    "2 words": "card arrived",
    "short words": "my card is on the way",
    "10 words (max)": "why has my card payment been declined twice at the shop",
    "200 chars, 10 words": " ".join(["transferring"] * 9 + ["x" * 83]),
    "no match, 3 words": "zebra quantum marmalade",
}


def seed(n: int) -> None:
    import csv

    from django.utils import timezone

    from inbox.models import Email

    source = Path(os.environ.get("CLEANINBOX_DATA_SOURCE") or REPO.parent / "shared/data/banking77")
    with (source / "train.csv").open(newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    filler = (
        "\n\nKind regards,\nJane Customer\nSent from my phone\n\n"
        "On Monday the support team wrote:\n> Thank you for contacting us. We have received your "
        "message and will answer within two working days. Please do not reply to this address "
        "with card numbers or passwords.\n> Your reference is 0000.\n" * 3
    )
    now = timezone.now()
    batch = [
        Email(
            message_id=f"seed-{i}@bench.example", sender=f"customer{i % 3000}@mail.example",
            subject=texts[(i * 7) % len(texts)][:60], body_text=f"Hello,\n\n{texts[i % len(texts)]}{filler}",
            model_input=texts[i % len(texts)], received_at=now, status=Email.Status.CLASSIFIED,
        )
        for i in range(n)
    ]  # fmt: skip
    Email.objects.bulk_create(batch, batch_size=1000)


def timed(text: str, repeats: int = 3) -> tuple[float, int]:
    from inbox.api.filters import search_emails
    from inbox.models import Email

    runs, count = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        qs = search_emails(Email.objects.all(), text).order_by("-received_at", "-id")
        count = qs.count()
        list(qs[:25])
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), count


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=15_000)
    args = parser.parse_args()
    with localservices.postgres() as pg:
        pg.createdb("search")
        os.environ.update(
            DJANGO_SETTINGS_MODULE="cleaninbox.settings",
            DEBUG="true",
            DATABASE_URL=pg.url_for("search"),
        )
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"],
            cwd=REPO,
            env=os.environ,
            check=True,
        )
        import django

        django.setup()
        from django.db import connection

        seed(args.n)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE inbox_email")
        with_index = {label: timed(q) for label, q in QUERIES.items()}
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX email_search_trgm")
            cursor.execute("ANALYZE inbox_email")
        without = {label: timed(q) for label, q in QUERIES.items()}
        connection.close()
    print(f"\nsearch over {args.n} emails (count + first page of 25, median of 3)")
    print(f"{'query':<22} {'matches':>8} {'trigram index':>14} {'no index':>10}")
    for label in QUERIES:
        (fast, count), (slow, _) = with_index[label], without[label]
        print(f"{label:<22} {count:>8} {fast * 1000:>11.0f} ms {slow * 1000:>7.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
