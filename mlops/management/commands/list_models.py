"""`manage.py list_models`: the registry as a table (and, with --remote, the bucket)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from mlops import gcs, lineage
from mlops.models import ModelVersion

COLUMNS = ("version", "kind", "stage", "val acc", "test acc", "threshold", "created", "parent",
           "corr", "commit", "gates")  # fmt: skip


class Command(BaseCommand):
    help = "List registered model versions, newest first; --remote lists published ones too."

    def add_arguments(self, parser):
        parser.add_argument("--remote", action="store_true", help="Also list versions in GCS.")
        parser.add_argument("--lineage", metavar="VERSION", help="Print one version's lineage.")

    def handle(self, *args, remote, **options):
        if options.get("lineage"):
            row = ModelVersion.objects.filter(version=options["lineage"]).first()
            if row is None:
                raise CommandError(f"no model version {options['lineage']!r} in the registry")
            for label, value in lineage.describe(row):
                self.stdout.write(f"{label:>15}: {value}")
            return
        rows = [
            (
                row.version, row.kind, row.stage, _pct(row.validation_accuracy),
                _pct(row.test_accuracy), "n/a" if row.threshold is None else f"{row.threshold:.3f}",
                f"{row.created_at:%Y-%m-%d %H:%M}", *_lineage_cells(row),
            )
            for row in ModelVersion.objects.select_related("loop_state")
        ]  # fmt: skip
        self.stdout.write(_table(COLUMNS, rows) if rows else "No model versions registered.")
        if remote:
            try:
                published = gcs.list_versions()
            except gcs.GCSError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write("")
            remote_rows = [
                (v.version, v.kind, _pct(v.validation_accuracy), v.published_at, v.uri)
                for v in published
            ]
            columns = ("version", "kind", "val acc", "published", "uri")
            self.stdout.write(_table(columns, remote_rows) if remote_rows else "Nothing published.")
        active = next((r[0] for r in rows if r[2] == ModelVersion.Stage.PRODUCTION), None)
        self.stdout.write(f"{len(rows)} version(s); active: {active or 'none'}")


def _lineage_cells(row: ModelVersion) -> tuple[str, str, str, str]:
    """parent (or export source), corrections used, git commit, gate verdict."""
    block = lineage.of(row)
    parent = block.get("parent_version") or block.get("exported_from") or "-"
    count = (block.get("corrections") or {}).get("count")
    state = getattr(row, "loop_state", None)
    return (parent, "-" if count is None else str(count), (block.get("git_commit") or "-")[:8],
            state.verdict if state else "-")  # fmt: skip


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(c)), *(len(str(r[i])) for r in rows)) for i, c in enumerate(columns)]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
             for line in (columns, *rows)]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
