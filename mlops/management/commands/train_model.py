"""`manage.py train_model --config NAME`: fine-tune the transformer and register the version."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mlops import lifecycle, registry
from mlops.config import ConfigError, load_config


class Command(BaseCommand):
    help = (
        "Fine-tune a transformer from an experiment config (configs/experiments/NAME.yaml) "
        "on the prepared data, register the new version; optionally add agents' "
        "corrections, evaluate it on test and promote it if it beats the active model."
    )

    def add_arguments(self, parser):
        parser.add_argument("--config", default="minilm", help="Experiment name or YAML path.")
        parser.add_argument("--set", dest="overrides", action="append", default=[],
                            metavar="KEY=VALUE", help="Override a config key (repeatable).")  # fmt: skip
        parser.add_argument("--data-dir", type=Path, default=None, help="Default: CLEANINBOX_DATA_DIR.")  # fmt: skip
        parser.add_argument("--with-corrections", action="store_true",
                            help="Add corrected emails (latest label wins, PII masked) to train.")  # fmt: skip
        parser.add_argument("--evaluate", action="store_true", help="Run evaluate_model after.")
        parser.add_argument("--promote-if-better", action="store_true",
                            help="Promote if validation accuracy beats the active model's.")  # fmt: skip
        parser.add_argument("--teacher", action="append", default=[], metavar="VERSION",
                            help="Distil from the ensemble of these trained versions (registered "
                                 "names or folders; repeatable) instead of training on labels alone.")  # fmt: skip
        parser.add_argument("--refresh-teacher", action="store_true",
                            help="Recompute the teacher's cached outputs.")  # fmt: skip
        parser.add_argument("--refit", metavar="VERSION", default=None,
                            help="Train VERSION's config and seed again on train + validation, "
                                 "for its best epoch, keeping its calibration (the final fit of "
                                 "a recipe chosen on validation); --config is not used, --set is.")  # fmt: skip

    def handle(self, *args, config, overrides, data_dir, **options):
        from mlops import training  # torch and transformers: only imported when training

        progress = options["verbosity"] > 0
        try:
            source = options["refit"]
            refit = training.Refit.of(registry.folder_of(source)) if source else None
            experiment = refit.experiment(overrides) if refit else load_config(config, overrides)
            extra = lifecycle.corrections_for_training() if options["with_corrections"] else []
            if options["with_corrections"]:
                self.stdout.write(f"Adding {len(extra)} corrected email(s) to the train split")
            if options["teacher"]:
                from mlops import distill

                path = distill.distill(
                    experiment, [registry.folder_of(t) for t in options["teacher"]],
                    data_dir or settings.CLEANINBOX_DATA_DIR, settings.CLEANINBOX_MODEL_DIR,
                    extra_examples=extra, progress=progress,
                    cache_dir=settings.CLEANINBOX_TEACHER_CACHE_DIR,
                    refresh_teacher=options["refresh_teacher"], refit=refit,
                )  # fmt: skip
            else:
                path = training.train(experiment, data_dir or settings.CLEANINBOX_DATA_DIR,
                                      settings.CLEANINBOX_MODEL_DIR, extra_examples=extra,
                                      progress=progress, refit=refit)  # fmt: skip
            row = registry.register(path)
        except (ConfigError, OSError, ValueError, *lifecycle.EXPECTED_ERRORS) as exc:
            raise CommandError(f"not trained: {exc}") from exc
        val, meta = row.validation_metrics, row.metadata
        if meta.get("refit"):
            self.stdout.write(f"Refit of {meta['refit']['of']}: trained on train + validation; "
                              "its validation figures and calibration are the source's")  # fmt: skip
        self.stdout.write(self.style.SUCCESS(
            f"Trained {row.version} in {meta.get('training_seconds', '?')} s: validation "
            f"accuracy {val.get('accuracy', 0):.1%}, macro-F1 {val.get('macro_f1', 0):.3f}, "
            f"threshold {row.threshold}; at {path}"
        ))  # fmt: skip
        try:
            if options["evaluate"]:
                result = lifecycle.evaluate_version(row.version, data_dir, progress=progress)
                self.stdout.write(result.summary())
            if options["promote_if_better"]:
                decision = lifecycle.promote_if_better(row.version)
                verb = "Promoted" if decision.promoted else "Not promoted"
                self.stdout.write(f"{verb}: {decision.reason}. Active model: {decision.active}")
        except lifecycle.EXPECTED_ERRORS as exc:
            raise CommandError(f"{row.version} trained and registered, but: {exc}") from exc
