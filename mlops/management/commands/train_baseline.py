"""`manage.py train_baseline`: the quick TF-IDF model, so a fresh install classifies at once."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mlops import data, lifecycle, registry
from mlops.baseline import train_baseline


class Command(BaseCommand):
    help = (
        "Train the TF-IDF + logistic-regression baseline (seconds) and register it; "
        "--evaluate measures it on test, --promote makes it serve."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=None)
        parser.add_argument("--evaluate", action="store_true", help="Run evaluate_model after.")
        parser.add_argument("--promote", action="store_true", help="Make it the active model.")
        parser.add_argument(
            "--if-no-active",
            action="store_true",
            help="Do nothing when a model already serves (first-run setup).",
        )

    def handle(self, *args, data_dir, evaluate, promote, if_no_active, **options):
        active = registry.active()
        if if_no_active and active is not None:
            self.stdout.write(f"Active model: {active.version}; baseline not needed.")
            return
        data_dir = data_dir or settings.CLEANINBOX_DATA_DIR
        try:
            path = train_baseline(data_dir, settings.CLEANINBOX_MODEL_DIR)
            row = registry.register(path)
            if promote:
                row = registry.promote(row.version)
        except (data.DataError, *lifecycle.EXPECTED_ERRORS) as exc:
            raise CommandError(str(exc)) from exc
        val = row.validation_metrics
        self.stdout.write(
            self.style.SUCCESS(
                f"Baseline {row.version}: validation accuracy {val['accuracy']:.1%}, "
                f"macro-F1 {val['macro_f1']:.3f}, ECE {val['ece']:.3f}; threshold {row.threshold}; "
                f"stage {row.stage}; at {path}"
            )
        )
        if evaluate:
            result = lifecycle.evaluate_version(
                row.version, data_dir, progress=options["verbosity"] > 0
            )
            self.stdout.write(result.summary())
