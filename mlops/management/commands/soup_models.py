"""`manage.py soup_models V1 V2 V3 [--greedy]`: average trained versions' weights into one."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mlops import lifecycle, registry


class Command(BaseCommand):
    help = (
        "Average the weights of several trained versions of one recipe (different seeds) "
        "into a new version (a model soup: one model, no inference cost), calibrate it on "
        "validation and register it."
    )

    def add_arguments(self, parser):
        parser.add_argument("versions", nargs="+", help="Registered names or version folders.")
        parser.add_argument("--greedy", action="store_true",
                            help="Keep a member only if validation accuracy does not drop.")  # fmt: skip
        parser.add_argument("--name", default="soup", help="Version name prefix.")
        parser.add_argument("--data-dir", type=Path, default=None, help="Default: CLEANINBOX_DATA_DIR.")  # fmt: skip

    def handle(self, *args, versions, greedy, name, data_dir, **options):
        from mlops import soup  # torch: only imported when averaging

        try:
            members = [registry.folder_of(v) for v in versions]
            path = soup.soup(members, data_dir or settings.CLEANINBOX_DATA_DIR,
                             settings.CLEANINBOX_MODEL_DIR, name=name, greedy=greedy)  # fmt: skip
            row = registry.register(path)
        except (OSError, ValueError, *lifecycle.EXPECTED_ERRORS) as exc:
            raise CommandError(f"no soup: {exc}") from exc
        info, val = row.metadata["soup"], row.validation_metrics
        self.stdout.write(self.style.SUCCESS(
            f"{row.version}: {len(info['kept'])} of {len(info['members'])} member(s) averaged, "
            f"validation accuracy {val.get('accuracy', 0):.2%} (members "
            + ", ".join(f"{a:.2%}" for a in info["member_val_accuracy"].values())
            + f"), threshold {row.threshold}; at {path}"
        ))  # fmt: skip
