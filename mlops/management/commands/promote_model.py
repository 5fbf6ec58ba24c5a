"""`manage.py promote_model VERSION` / `--rollback`: choose which version serves."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from mlops import lifecycle


class Command(BaseCommand):
    help = (
        "Make a registered version the production model (workers switch on their next "
        "batch), or --rollback to the one that served before. Refuses unusable artifacts."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", nargs="?", help="The version to promote.")
        parser.add_argument(
            "--rollback", action="store_true", help="Serve the previously promoted version."
        )

    def handle(self, *args, version, rollback, **options):
        if bool(version) == rollback:
            raise CommandError("give either a VERSION or --rollback")
        try:
            row = lifecycle.rollback() if rollback else lifecycle.promote(version)
        except lifecycle.EXPECTED_ERRORS as exc:
            raise CommandError(f"not promoted: {exc}") from exc
        val = row.validation_accuracy
        self.stdout.write(
            self.style.SUCCESS(
                f"{'Rolled back to' if rollback else 'Promoted'} {row.version} ({row.kind}); "
                f"validation accuracy {'n/a' if val is None else f'{val:.1%}'}; "
                f"threshold {_fmt(row.threshold)}. Workers pick it up on their next batch."
            )
        )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
