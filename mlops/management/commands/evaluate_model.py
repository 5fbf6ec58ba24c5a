"""`manage.py evaluate_model [VERSION ...]`: final numbers on the held-out test split.

Several versions (e.g. one recipe trained with three seeds) end with the mean ± sample sd
of their validation and test scores; ``--stored`` aggregates the test scores already
stored with the versions instead of reading the test split again.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from mlops import lifecycle, registry, seeds

# The seeded email shapes of the benchmark: test queries wrapped in greetings, signatures,
# quoted threads, forwards, HTML, then parsed and cleaned as real mail is.
BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
EMAIL_SHAPES = BENCHMARKS / "project_shapes.py"
EMAIL_SHAPES_SEED = 78


class Command(BaseCommand):
    help = (
        "Evaluate a model version (default: the active one) on the TEST split at the "
        "threshold chosen on validation, bare and email-shaped; writes report.json and plots "
        "to CLEANINBOX_REPORTS_DIR/VERSION/ and stores the test metrics with the version."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", nargs="*", default=[],
                            help="Default: the active version. Several: also mean ± sd.")  # fmt: skip
        parser.add_argument("--stored", action="store_true",
                            help="Aggregate stored test scores; evaluate nothing again.")  # fmt: skip
        parser.add_argument(
            "--data-dir", type=Path, default=None, help="Default: CLEANINBOX_DATA_DIR."
        )
        parser.add_argument(
            "--no-email-shapes",
            action="store_true",
            help="Skip the email-shaped test queries (about doubles the time otherwise).",
        )

    def handle(self, *args, version, data_dir, no_email_shapes, stored, **options):
        versions = version or [None]
        if stored:
            self._aggregate_stored(versions)
            return
        shape = None if no_email_shapes else email_shaper()
        validation, test = [], []
        for name in versions:
            try:
                result = lifecycle.evaluate_version(
                    name, data_dir, progress=options["verbosity"] > 0, email_shape=shape
                )
            except lifecycle.EXPECTED_ERRORS as exc:
                raise CommandError(f"{name or 'active model'} not evaluated: {exc}") from exc
            self.stdout.write(result.summary())
            validation.append(result.promise)
            test.append(result.report.headline())
        if len(versions) > 1:
            self._write_spread(versions, validation, test)

    def _aggregate_stored(self, versions: list[str | None]) -> None:
        validation, test, names = [], [], []
        for name in versions:
            try:
                row = registry.get(name) if name else registry.active()
            except registry.RegistryError as exc:
                raise CommandError(str(exc)) from exc
            if row is None:
                raise CommandError("no active model version")
            metrics = row.metadata.get("metrics") or {}
            if not metrics.get("test"):
                raise CommandError(f"{row.version} has no stored test scores: evaluate it first")
            validation.append(metrics.get("validation") or {})
            test.append(metrics["test"])
            names.append(row.version)
        self._write_spread(names, validation, test)

    def _write_spread(self, names, validation: list[dict], test: list[dict]) -> None:
        self.stdout.write(f"\n{len(names)} versions: {', '.join(n or 'active' for n in names)}")
        self.stdout.write(seeds.format_table("validation", seeds.aggregate(validation)))
        self.stdout.write(seeds.format_table("test", seeds.aggregate(test, seeds.TEST_KEYS)))


def email_shaper(seed: int = EMAIL_SHAPES_SEED) -> Callable[[list[str]], list[str]] | None:
    """queries -> the cleaned text of seeded emails around them (None without benchmarks/)."""
    if not EMAIL_SHAPES.is_file():
        return None
    from inbox.mail import model_input, parse_message

    if str(BENCHMARKS) not in sys.path:  # project_shapes imports its sibling shapecase
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("cleaninbox_project_shapes", EMAIL_SHAPES)
    shapes = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = shapes  # its dataclasses look their module up while defined
    spec.loader.exec_module(shapes)

    def shape(queries: list[str]) -> list[str]:
        maker = shapes.ShapeMaker(seed)
        out = []
        for i, query in enumerate(queries):
            parsed = parse_message(shapes.make_email(maker, query, i).raw)
            out.append(model_input(parsed.subject, parsed.body_text))
        return out

    return shape
