"""`manage.py pull_model VERSION`: download a published version and register it."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mlops import lifecycle


class Command(BaseCommand):
    help = (
        "Download a published model version from Google Cloud Storage (only complete, "
        "checksum-verified versions), register it as a candidate; promote it with promote_model."
    )

    def add_arguments(self, parser):
        parser.add_argument("version")
        parser.add_argument(
            "--dest",
            type=Path,
            default=None,
            help="Folder to create; default CLEANINBOX_MODEL_DIR/VERSION.",
        )

    def handle(self, *args, version, dest, **options):
        try:
            row, downloaded = lifecycle.pull(version, dest, progress=options["verbosity"] > 0)
        except lifecycle.EXPECTED_ERRORS as exc:
            raise CommandError(f"not pulled: {exc}") from exc
        how = "Pulled" if downloaded else "Already present, registered"
        val = row.validation_accuracy
        self.stdout.write(
            self.style.SUCCESS(
                f"{how} {row.version} ({row.kind}) at {row.local_path}; stage {row.stage}; "
                f"validation accuracy {'n/a' if val is None else f'{val:.1%}'}"
            )
        )
