"""`manage.py import_emails PATH [PATH ...]`: store .eml files, folders of them and mboxes."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from inbox.importing import import_paths


class Command(BaseCommand):
    help = (
        "Import raw emails from .eml files, folders of .eml files or mbox files. Already "
        "imported messages (same Message-ID) are counted as duplicates; a message without "
        "a sender or readable text is rejected and listed. Fails only if nothing was read."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", metavar="PATH", help="An .eml file, a folder or an mbox."
        )

    def handle(self, *args, paths, **options):
        # -v 2 shows the per-email log lines too (the default keeps the bar readable).
        verbosity = options["verbosity"]
        summary = import_paths(paths, progress=verbosity > 0, quiet=verbosity < 2)
        for line in summary.lines():
            self.stdout.write(line)
        if summary.nothing_read:
            raise CommandError("nothing could be imported from " + ", ".join(paths))
