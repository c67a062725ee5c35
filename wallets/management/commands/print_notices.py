"""交付通知書: python manage.py print_notices --programme CODE --out FILE.pdf [--import ID] [--limit N]

Runs in the command (no worker): issues the chosen tickets new PINs and cards and writes the PDF
to FILE.pdf and the vendor CSV beside it (FILE.csv). The batch is kept and audited like one made
in Django admin.
"""

import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from wallets import services
from wallets.models import ImportRun, Programme


class Command(BaseCommand):
    help = "Print the notices (PDF + vendor CSV) of a programme, or of one import of it."

    def add_arguments(self, parser):
        parser.add_argument("--programme", required=True, help="programme code")
        parser.add_argument("--out", required=True, type=Path, help="the PDF file to write")
        parser.add_argument(
            "--import", dest="import_id", type=int, help="only this import's tickets"
        )
        parser.add_argument("--limit", type=int, help="at most this many households")

    def handle(self, *args, programme, out, import_id=None, limit=None, **options):
        out = Path(out)
        try:
            programme = Programme.objects.get(code=programme)
        except Programme.DoesNotExist:
            raise CommandError(f"no programme with code {programme!r}") from None
        run = None
        if import_id is not None:
            run = ImportRun.objects.filter(pk=import_id, programme=programme).first()
            if run is None:
                raise CommandError(f"no import {import_id} in programme {programme.code!r}")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        if out.suffix.lower() != ".pdf":
            raise CommandError("--out must name a .pdf file")
        try:
            batch = services.notice_batch_create(
                programme=programme,
                actor=None,
                actor_label="manage.py print_notices",
                import_run=run,
                whole_programme=run is None,
                limit=limit,
                enqueue=False,
            )
        except DomainError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"batch {batch.pk}: {batch.pages_total:,} households")
        batch = services.notice_batch_write(batch, actor_label="manage.py print_notices")
        out.parent.mkdir(parents=True, exist_ok=True)
        for field, path in ((batch.pdf, out), (batch.csv, out.with_suffix(".csv"))):
            with field.open("rb") as source, open(path, "wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
        self.stdout.write(f"wrote {out} ({batch.pdf_size:,} bytes) and {out.with_suffix('.csv')}")
