"""`manage.py evaluate_model [VERSION]`: final numbers on the held-out test split."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mlops import lifecycle


class Command(BaseCommand):
    help = (
        "Evaluate a model version (default: the active one) on the TEST split at the "
        "threshold chosen on validation; writes report.json and plots to "
        "CLEANINBOX_REPORTS_DIR/VERSION/ and stores the test metrics with the version."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", nargs="?", default=None)
        parser.add_argument(
            "--data-dir", type=Path, default=None, help="Default: CLEANINBOX_DATA_DIR."
        )

    def handle(self, *args, version, data_dir, **options):
        try:
            result = lifecycle.evaluate_version(
                version, data_dir, progress=options["verbosity"] > 0
            )
        except lifecycle.EXPECTED_ERRORS as exc:
            raise CommandError(f"not evaluated: {exc}") from exc
        self.stdout.write(result.summary())
