"""`manage.py serve_fastest [VERSION]`: the ONNX export of a transformer serves when as good."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mlops import lifecycle, serving


class Command(BaseCommand):
    help = (
        "Export a transformer version (default: the active one) to ONNX fp32 and int8, and "
        "promote int8 if it is within 0.2 points on validation and within the auto-routing "
        "error target, else fp32 if it is as good; otherwise the version keeps serving. "
        "The last step of `make model`."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", nargs="?", help="A registered transformer version.")

    def handle(self, *args, version=None, **options):
        from mlops import export

        try:
            choice = serving.serve_fastest(
                version, settings.CLEANINBOX_MODEL_DIR, settings.CLEANINBOX_DATA_DIR
            )
        except (export.ExportError, *lifecycle.EXPECTED_ERRORS) as exc:
            raise CommandError(f"not exported: {exc}") from exc
        if choice.promoted:
            self.stdout.write(self.style.SUCCESS(f"{choice.promoted} serves: {choice.reason}."))
        else:
            self.stdout.write(f"Nothing promoted: {choice.reason}.")
