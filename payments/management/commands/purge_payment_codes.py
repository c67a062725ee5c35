"""Delete what the payment pages leave behind: unused resident codes long expired and rate-limit
counters whose own window has passed. Safe to run any time (e.g. nightly from cron)."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from core.ratelimit import rate_limit_purge
from payments.models import CpmCode


class Command(BaseCommand):
    help = "Delete unused resident QR codes expired over a day ago and stale rate-limit counters."

    def handle(self, *args, **options):
        now = timezone.now()
        codes, _ = CpmCode.objects.filter(
            payment__isnull=True, expires_at__lt=now - timedelta(days=1)
        ).delete()
        # Each counter by its own window: a 1-hour reset counter outlives the 15-minute PIN ones.
        counters = rate_limit_purge(now=now)
        self.stdout.write(f"deleted {codes} codes, {counters} rate-limit counters")
