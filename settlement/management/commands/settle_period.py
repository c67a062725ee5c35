"""Close one settlement period of a programme: python manage.py settle_period --programme CODE --period-end YYYY-MM-DD"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import DomainError
from settlement import services
from wallets.models import Programme


class Command(BaseCommand):
    help = "Close one settlement period into payouts (idempotent: a closed period is left as is)."

    def add_arguments(self, parser):
        parser.add_argument("--programme", required=True, help="programme code")
        parser.add_argument("--period-end", required=True, type=date.fromisoformat)

    def handle(self, *args, programme, period_end, **options):
        try:
            programme = Programme.objects.get(code=programme)
            run = services.settlement_run(programme=programme, period_end=period_end)
        except Programme.DoesNotExist:
            raise CommandError(f"no programme with code {programme!r}") from None
        except DomainError as error:
            raise CommandError(str(error)) from None
        payouts = run.payouts.all()
        total = sum(p.net for p in payouts)
        self.stdout.write(
            f"{run}: {len(payouts)} payouts, {total:,} yen, "
            f"paid on {run.payouts.values_list('scheduled_on', flat=True).first() or '-'}"
        )
