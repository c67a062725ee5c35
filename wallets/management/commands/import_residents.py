"""取込: python manage.py import_residents --programme CODE [--dry-run] [--grants] FILE.csv

Runs the import in this process (the admin page queues the same work for the worker); the file
is kept through the storage API and the run is listed in Django admin like any other.
"""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from wallets import imports
from wallets.models import ImportRun, Programme


class Command(BaseCommand):
    help = "Import residents and tickets (or, with --grants, grants to tickets) from a CSV file."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--programme", required=True, help="programme code")
        parser.add_argument("--dry-run", action="store_true", help="check only; write nothing")
        parser.add_argument(
            "--grants", action="store_true", help="ticket_number,value_type,amount rows"
        )

    def handle(self, *args, file, programme, dry_run, grants, **options):
        try:
            programme = Programme.objects.get(code=programme)
        except Programme.DoesNotExist:
            raise CommandError(f"no programme with code {programme!r}") from None
        if not file.is_file():
            raise CommandError(f"no file {file}")
        if file.stat().st_size > imports.MAX_FILE_BYTES:
            raise CommandError(f"{file} is larger than {imports.MAX_FILE_BYTES:,} bytes")
        with file.open("rb") as f:
            run = imports.import_start(
                programme=programme,
                kind=ImportRun.Kind.GRANTS if grants else ImportRun.Kind.RESIDENTS,
                upload=File(f, name=file.name),
                dry_run=dry_run,
                actor=None,
            )

        def progress(done, total):
            self.stderr.write(f"\r{done:,} / {total:,}", ending="")

        run = imports.import_run(run, language=translation.get_language(), progress=progress)
        self.stderr.write("")
        for row in run.rejected:
            self.stderr.write(f"line {row['line']}: {row['key']}: {row['reason']}")
        if run.status == ImportRun.Status.REJECTED and run.error:
            raise CommandError(run.error)
        verb = "would create" if dry_run else "created"
        self.stdout.write(
            f"import #{run.pk} {run.get_status_display()}: {run.rows_total:,} rows,"
            f" {len(run.rejected):,} rejected; {verb} {run.created_count:,} tickets,"
            f" {run.granted_count:,} grants, {run.granted_total:,} yen"
        )
        if run.status == ImportRun.Status.REJECTED:
            raise CommandError("nothing was granted: every row must be accepted")
