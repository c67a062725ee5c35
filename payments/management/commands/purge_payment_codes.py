"""Delete what the payment pages leave behind: unused resident codes long expired and rate-limit
counters whose window has passed. Safe to run any time (e.g. nightly from cron)."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from core.models import RateLimit
from payments.models import CpmCode
from payments.services import ATTEMPT_WINDOW


class Command(BaseCommand):
    help = "Delete unused resident QR codes expired over a day ago and stale rate-limit counters."

    def handle(self, *args, **options):
        now = timezone.now()
        codes, _ = CpmCode.objects.filter(
            payment__isnull=True, expires_at__lt=now - timedelta(days=1)
        ).delete()
        counters, _ = RateLimit.objects.filter(window_start__lt=now - ATTEMPT_WINDOW).delete()
        self.stdout.write(f"deleted {codes} codes, {counters} rate-limit counters")
