"""`manage.py export_model VERSION [--quantize]`: an ONNX copy of a transformer version."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mlops import data, lifecycle, registry


class Command(BaseCommand):
    help = (
        "Export a registered transformer version to ONNX (VERSION-onnx, or VERSION-onnx-int8 "
        "with --quantize), check it against the torch model, measure it on validation and "
        "register it; --promote-if-as-good makes it serve if its validation accuracy is "
        "within 0.2 points of the source's."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", help="A registered transformer version.")
        parser.add_argument("--quantize", action="store_true", help="Dynamic int8 weights.")
        parser.add_argument("--promote-if-as-good", action="store_true",
                            help="Promote if validation accuracy is within 0.2 points of the source's.")  # fmt: skip
        parser.add_argument("--data-dir", type=Path, default=None, help="Default: CLEANINBOX_DATA_DIR.")  # fmt: skip

    def handle(self, *args, version, quantize, promote_if_as_good, data_dir, **options):
        from mlops import export  # torch and onnx: only imported when exporting

        try:
            source = registry.get(version)
            path = export.export_onnx(
                registry.local_path(source), settings.CLEANINBOX_MODEL_DIR, quantize,
                data_dir=data_dir or settings.CLEANINBOX_DATA_DIR,
            )  # fmt: skip
            row = registry.register(path)
        except (export.ExportError, FileExistsError, data.DataError, *lifecycle.EXPECTED_ERRORS) as exc:  # fmt: skip
            raise CommandError(f"not exported: {exc}") from exc
        meta = row.metadata
        fidelity = meta["onnx"]["fidelity"]
        source_acc = meta["exported_from"]["validation_accuracy"]
        self.stdout.write(self.style.SUCCESS(
            f"Exported {row.version} from {version}: validation accuracy "
            f"{row.validation_accuracy:.2%} (source {source_acc:.2%}), same top intent as the "
            f"source for {fidelity['validation_argmax_agreement']:.1%} of validation, fp32 "
            f"logits within {fidelity['fp32_max_abs_logit_diff']:.1e}; at {path}"
        ))  # fmt: skip
        if not promote_if_as_good:
            return
        reference = max(a for a in (source.validation_accuracy, source_acc) if a is not None)
        if not export.as_good_as_source(meta, source.validation_accuracy):
            self.stdout.write(
                f"Not promoted: validation accuracy {row.validation_accuracy:.2%} is more than "
                f"{export.PROMOTE_TOLERANCE * 100:.1f} points below {version}'s {reference:.2%}."
            )
            return
        try:
            lifecycle.promote(row.version)
        except lifecycle.EXPECTED_ERRORS as exc:
            raise CommandError(f"{row.version} exported and registered, but: {exc}") from exc
        self.stdout.write(f"Promoted {row.version}: it serves from the workers' next batch.")
