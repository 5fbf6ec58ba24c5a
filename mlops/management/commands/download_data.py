"""`manage.py download_data`: fetch BANKING77, validate it, carve validation, write a manifest."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mlops import data


class Command(BaseCommand):
    help = (
        "Download BANKING77 (PolyAI/banking77 from the Hugging Face Hub, or --source / "
        "CLEANINBOX_DATA_SOURCE: a folder or URL with train.csv and test.csv), validate it, "
        "carve a stratified validation split and write a manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            default=None,
            help="Folder or URL prefix; default: CLEANINBOX_DATA_SOURCE, else the Hub.",
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="Where to write; default: CLEANINBOX_DATA_DIR.",
        )
        parser.add_argument("--val-fraction", type=float, default=0.1)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, source, data_dir, val_fraction, seed, **options):
        source = source or settings.CLEANINBOX_DATA_SOURCE or None
        data_dir = data_dir or settings.CLEANINBOX_DATA_DIR
        self.stdout.write(
            f"Preparing BANKING77 from {source or 'the Hugging Face Hub (' + data.HUB_DATASET + ')'}"
        )
        try:
            summary = data.prepare(
                source,
                data_dir,
                val_fraction=val_fraction,
                seed=seed,
                progress=options["verbosity"] > 0,
            )
        except data.DataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(str(summary)))
