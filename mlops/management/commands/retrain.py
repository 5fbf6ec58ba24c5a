"""`manage.py retrain`: ask the retraining policy, and run one cycle if it says so."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from mlops import lifecycle, retrain
from mlops.config import ConfigError


class Command(BaseCommand):
    help = (
        "Apply the retraining policy (new corrections, drift alarm, age) and, when it calls "
        "for it (or with --force), run one cycle: data, train, evaluate, export, gates, "
        "publish, shadow. --dry-run only prints the decision."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Retrain even if not due.")
        parser.add_argument("--dry-run", action="store_true", help="Print the decision only.")
        parser.add_argument("--set", dest="overrides", action="append", default=[],
                            metavar="KEY=VALUE", help="Override a recipe key (repeatable).")  # fmt: skip
        parser.add_argument("--wait", type=float, default=10.0, metavar="SECONDS",
                            help="How long to wait for another cycle's lock (default 10).")  # fmt: skip

    def handle(self, *args, force, dry_run, overrides, wait, **options):
        if dry_run:
            decision = retrain.decide()
            verdict = "due" if decision.due else "not due"
            self.stdout.write(f"Retrain {verdict}: {'; '.join(decision.reasons)}")
            for key, value in decision.facts.items():
                self.stdout.write(f"  {key}: {value}")
            return
        try:
            decision, run = retrain.run(
                "command",
                force=force,
                progress=options["verbosity"] > 1,
                overrides=overrides,
                wait=wait,
            )
        except retrain.Busy as exc:
            raise CommandError(str(exc)) from exc
        except (ConfigError, OSError, ValueError, *lifecycle.EXPECTED_ERRORS) as exc:
            raise CommandError(f"retrain failed: {exc}") from exc
        if run is None:
            self.stdout.write(f"Not retrained: {'; '.join(decision.reasons)}")
            return
        state = run.candidates.select_related("version").first()
        steps = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in run.ordered_steps)
        self.stdout.write(self.style.SUCCESS(
            f"Candidate {run.candidate_version} from {run.n_corrections} correction(s) "
            f"({'; '.join(run.reasons)}); steps: {steps}"
        ))  # fmt: skip
        if state is not None:
            for gate in state.gates:
                mark = {True: "pass", False: "FAIL", None: "wait"}[gate["passed"]]
                self.stdout.write(f"  [{mark}] {gate['title']}: {gate['value']} ({gate['limit']})")
            self.stdout.write(f"Verdict: {state.get_verdict_display()} — {state.reason}")
