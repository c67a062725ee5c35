"""Every periodic job in one command, for one cron line or one systemd timer (deploy/).

Each job runs on its own: one failing does not stop the next; the command exits non-zero when any
failed, naming them. `check_ledger` finding a violation also mails ADMINS, because nobody reads
a nightly job's output until something is wrong.
"""

import io
import time

from django.conf import settings
from django.core.mail import mail_admins
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_log


def jobs():
    """(name, command, options) in the order they run; the ledger check last, after the purges."""
    days = settings.HOUSEKEEPING_DAYS
    return [
        ("exports", "purge_exports", {}),
        ("payment codes and rate-limit counters", "purge_payment_codes", {}),
        ("sessions", "clearsessions", {}),
        (
            "task results",
            "prune_db_task_results",
            {"min_age_days": days["task_results"], "queue_name": "*"},
        ),
        ("sign-in access log", "axes_reset_logs", {"age": days["access_logs"]}),
        ("sign-in failure log", "axes_reset_failure_logs", {"age": days["access_logs"]}),
        ("ledger", "check_ledger", {}),
    ]


class Command(BaseCommand):
    help = (
        "Run every periodic job: purges (exports, codes, rate-limit counters, sessions, task "
        "results, sign-in logs) and check_ledger, which mails ADMINS on a violation. Exits "
        "non-zero when any job failed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--only", default="", help="Comma-separated job commands to run (default: all)."
        )

    def handle(self, *args, only="", **options):
        wanted = {name.strip() for name in only.split(",") if name.strip()}
        selected = [job for job in jobs() if not wanted or job[1] in wanted]
        if wanted - {job[1] for job in selected}:
            raise CommandError(
                f"unknown job(s): {', '.join(sorted(wanted - {j[1] for j in selected}))}"
            )
        failed, results = [], {}
        for label, command, kwargs in selected:
            out = io.StringIO()
            started = time.perf_counter()
            try:
                call_command(command, stdout=out, stderr=out, **kwargs)
                ok, detail = True, out.getvalue().strip()
            except Exception as error:  # each job on its own: report and go on
                ok, detail = False, f"{out.getvalue().strip()}\n{type(error).__name__}: {error}"
                failed.append(command)
                if command == "check_ledger":
                    self.alert(detail)
            elapsed = time.perf_counter() - started
            results[command] = {"ok": ok, "seconds": round(elapsed, 2)}
            style = self.style.SUCCESS if ok else self.style.ERROR
            self.stdout.write(
                style(f"{'OK ' if ok else 'FAILED'} {label} ({command}, {elapsed:.1f} s)")
            )
            for line in detail.splitlines()[-10:]:
                self.stdout.write(f"    {line}")
        try:
            audit_log(action="core.housekeeping.ran", actor_label="housekeeping", results=results)
        except Exception as error:
            self.stderr.write(f"could not write the audit log: {error}")
            failed.append("audit_log")
        if failed:
            raise CommandError(f"housekeeping: {len(failed)} job(s) failed: {', '.join(failed)}")

    def alert(self, detail: str) -> None:
        try:
            mail_admins(
                "check_ledger found a ledger violation",
                "The nightly housekeeping ran check_ledger and it failed:\n\n"
                f"{detail}\n\nSee docs/operations.md (Monitoring) before taking any payment further.",
            )
        except Exception as error:
            self.stderr.write(f"could not mail ADMINS: {error}")
