"""`manage.py drift_check`: run the drift checks on any window of stored mail, now."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from tqdm import tqdm

from mlops import drift, drift_runs


def _when(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None and (day := parse_date(value)) is not None:
        parsed = datetime(day.year, day.month, day.day)
    if parsed is None:
        raise CommandError(
            f"{value!r} is not a date or date-time (e.g. 2026-12-01 or 2026-12-01T09:00)"
        )
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


class Command(BaseCommand):
    help = (
        "Compare a window of recent mail with the data the production model was trained on "
        "(and with the window before it), store the verdicts and print them. Default window: "
        "the last CLEANINBOX_DRIFT_WINDOW emails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--last", type=int, default=None, help="The last N emails.")
        parser.add_argument("--since", type=_when, default=None, help="Start of a time window.")
        parser.add_argument(
            "--until", type=_when, default=None, help="End of the window (default: now)."
        )
        parser.add_argument(
            "--alpha",
            type=float,
            default=None,
            help="Family-wise false-alarm rate (default: CLEANINBOX_DRIFT_ALPHA).",
        )

    def handle(self, *args, last, since, until, alpha, **options):
        if last is None and since is None:
            last = settings.CLEANINBOX_DRIFT_WINDOW
        if alpha is not None and not 0 < alpha < 1:
            raise CommandError(f"--alpha must be between 0 and 1, got {alpha}")
        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if options["verbosity"] < 1:
                return
            if bar is None:
                bar = tqdm(total=total, unit="email", desc="reading mail", file=self.stderr)
            bar.update(done - bar.n)

        try:
            spec = drift_runs.WindowSpec(last=last, since=since, until=until)
            run = drift_runs.run_drift_check(spec, alpha=alpha, progress=progress)
        except drift_runs.DriftError as exc:
            raise CommandError(f"no drift check: {exc}") from exc
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(summary(run))


def summary(run) -> str:
    window = "no emails"
    if run.n_emails:
        window = f"{run.n_emails} emails received {run.window_start:%Y-%m-%d %H:%M} – {run.window_end:%Y-%m-%d %H:%M}"
    lines = [
        f"Drift run {run.pk}: {window}; previous window {run.n_previous}; model {run.model_version}",
        f"{'check':22} {'score':>9} {'p-value':>9} {'threshold':>9}  verdict",
    ]
    for c in run.checks.all():
        score = "—" if c.score is None else f"{c.score:9.4f}"
        p = "—" if c.p_value is None else f"{c.p_value:9.2e}"
        level = "—" if c.threshold is None else f"{c.threshold:9.1e}"
        lines.append(f"{c.name:22} {score:>9} {p:>9} {level:>9}  {c.verdict}")
    verdict = f"DRIFT in {', '.join(run.drifted)}" if run.alarm else "no drift"
    lines.append(
        f"{verdict} (family-wise alpha {run.alpha:g}, Holm) · {run.duration_seconds:.1f} s"
    )
    if run.notes:
        lines.append(run.notes)
    lines.append(f"Checks: {len(drift.CHECKS)}; details on the Drift page.")
    return "\n".join(lines)
