"""失効: python manage.py expire_programme --programme CODE [--today YYYY-MM-DD]"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from wallets import ledger
from wallets.models import Programme


class Command(BaseCommand):
    help = "Move every balance of expired value types into the expiry account; safe to repeat."

    def add_arguments(self, parser):
        parser.add_argument("--programme", required=True, help="programme code")
        parser.add_argument("--today", type=date.fromisoformat, default=None)

    def handle(self, *args, programme, today, **options):
        try:
            report = ledger.expire(programme=Programme.objects.get(code=programme), today=today)
        except Programme.DoesNotExist:
            raise CommandError(f"no programme with code {programme!r}") from None
        except DomainError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"expired {report.wallets:,} wallets, {report.total:,} yen")
