"""`manage.py train_baseline`: the quick TF-IDF model, so a fresh install classifies at once."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mlops import data, registry
from mlops.baseline import train_baseline


class Command(BaseCommand):
    help = "Train the TF-IDF + logistic-regression baseline (seconds) and register it; --promote makes it serve."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=None)
        parser.add_argument("--promote", action="store_true", help="Make it the active model.")
        parser.add_argument(
            "--if-no-active", action="store_true", help="Do nothing when a model already serves (first-run setup)."
        )

    def handle(self, *args, data_dir, promote, if_no_active, **options):
        if if_no_active and registry.active() is not None:
            self.stdout.write(f"Active model: {registry.active().version}; baseline not needed.")
            return
        data_dir = data_dir or settings.CLEANINBOX_DATA_DIR
        try:
            path = train_baseline(data_dir, settings.CLEANINBOX_MODEL_DIR)
        except data.DataError as exc:
            raise CommandError(str(exc)) from exc
        row = registry.register(path)
        if promote:
            row = registry.promote(row.version)
        val = row.validation_metrics
        self.stdout.write(
            self.style.SUCCESS(
                f"Baseline {row.version}: validation accuracy {val['accuracy']:.1%}, macro-F1 {val['macro_f1']:.3f}, "
                f"ECE {val['ece']:.3f}; threshold {row.threshold}; stage {row.stage}; at {path}"
            )
        )
