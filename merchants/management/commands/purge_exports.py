from django.core.management.base import BaseCommand

from merchants.portal.exports import exports_purge


class Command(BaseCommand):
    help = "Delete CSV exports (files and rows) past their keeping time (MERCHANT_EXPORT_DAYS)."

    def handle(self, *args, **options):
        self.stdout.write(f"{exports_purge()} expired export(s) deleted.")
