"""`manage.py build_explanation_index [VERSION]`: the neighbours index for "why this intent"."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mlops import data, explain_index, lifecycle


class Command(BaseCommand):
    help = (
        "Score the training split once with a model version (default: the one in production) "
        "and save the index the explanation panel finds similar training examples in."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", nargs="?", default=None)
        parser.add_argument("--data-dir", type=Path, default=None, help="Default: CLEANINBOX_DATA_DIR.")  # fmt: skip

    def handle(self, *args, version, data_dir, **options):
        try:
            path = explain_index.build_index(version, data_dir)
        except (explain_index.IndexUnavailable, data.DataError, *lifecycle.EXPECTED_ERRORS) as exc:
            raise CommandError(f"no index built: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Explanation index written to {path}"))
