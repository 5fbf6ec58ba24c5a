"""`manage.py publish_model VERSION`: upload a version to Google Cloud Storage."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from mlops import lifecycle


class Command(BaseCommand):
    help = (
        "Upload a registered model version to gs://GCS_BUCKET/GCS_PREFIX/VERSION/ (files "
        "checksum-verified, metadata.json then a _COMPLETE marker last) and record its URI."
    )

    def add_arguments(self, parser):
        parser.add_argument("version")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace a copy already published with different files (e.g. after evaluate_model).",
        )

    def handle(self, *args, version, force, **options):
        try:
            row = lifecycle.publish(version, overwrite=force, progress=options["verbosity"] > 0)
        except lifecycle.EXPECTED_ERRORS as exc:
            raise CommandError(f"not published: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"Published {row.version} to {row.remote_uri}"))
