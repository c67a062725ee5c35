"""manage.py housekeeping: every purge in one run, check_ledger last, ADMINS mailed on a ledger
violation and a non-zero exit when any job fails."""

import io
from datetime import timedelta

import pytest
from axes.models import AccessLog
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.models import AuditLog, RateLimit
from payments import services
from payments.models import CpmCode
from tests import factories
from tests.wallets.test_check_ledger import breach


def housekeeping(**options) -> str:
    out = io.StringIO()
    call_command("housekeeping", stdout=out, **options)
    return out.getvalue()


def task_result(finished_days_ago: int | None) -> DBTaskResult:
    now = timezone.now()
    finished = now - timedelta(days=finished_days_ago) if finished_days_ago is not None else None
    return DBTaskResult.objects.create(
        status=TaskResultStatus.SUCCESSFUL if finished else TaskResultStatus.READY,
        finished_at=finished,
        args_kwargs={"args": [], "kwargs": {}},
        task_path="merchants.portal.tasks.write_export",
        backend_name="default",
        run_after=now,
        exception_class_path="",
        traceback="",
    )


@pytest.mark.django_db
def test_one_run_purges_everything_stale_and_keeps_the_rest(wallet, settings):
    old = timezone.now() - timedelta(days=120)
    stale_code, _ = services.cpm_code_issue(wallet=wallet, now=old)
    fresh_code, _ = services.cpm_code_issue(wallet=wallet)
    RateLimit.objects.create(
        key="stale", window_start=old, count=3, window_length=timedelta(hours=1)
    )
    Session.objects.create(session_key="s-old", session_data="x", expire_date=old)
    Session.objects.create(
        session_key="s-live", session_data="x", expire_date=timezone.now() + timedelta(hours=1)
    )
    old_result, waiting = task_result(30), task_result(None)
    recent_result = task_result(1)
    stale_log = AccessLog.objects.create(username="u", ip_address="127.0.0.1", user_agent="t")
    AccessLog.objects.filter(pk=stale_log.pk).update(attempt_time=old)  # auto_now_add
    kept_log = AccessLog.objects.create(username="u", ip_address="127.0.0.1", user_agent="t")

    report = housekeeping()

    assert "FAILED" not in report
    assert "OK  ledger (check_ledger" in report
    assert list(CpmCode.objects.values_list("pk", flat=True)) == [fresh_code.pk]
    assert stale_code.pk != fresh_code.pk
    assert not RateLimit.objects.filter(key="stale").exists()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["s-live"]
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {waiting.pk, recent_result.pk}
    assert old_result.pk not in set(DBTaskResult.objects.values_list("pk", flat=True))
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [kept_log.pk]
    run = AuditLog.objects.get(action="core.housekeeping.ran")
    assert run.data["results"]["check_ledger"]["ok"] is True
    assert len(mail.outbox) == 0


@pytest.mark.django_db(transaction=True)
def test_a_ledger_violation_mails_admins_and_fails_the_run(wallet, small_store, settings):
    settings.ADMINS = ["ops@city.example.jp"]
    factories.payment(wallet, small_store, 100, key="x", mode="mpm")
    breach(
        [
            (
                "UPDATE wallets_posting SET amount = amount + 1 WHERE id = "
                "(SELECT min(id) FROM wallets_posting)",
                [],
            )
        ]
    )
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 job\\(s\\) failed: check_ledger"):
        call_command("housekeeping", stdout=out)
    report = out.getvalue()
    # The purges before it still ran.
    assert "OK  sessions (clearsessions" in report
    assert "FAILED ledger (check_ledger" in report
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@city.example.jp"]
    assert "check_ledger" in message.subject
    assert "BAD unbalanced journal entries: 1" in message.body


def test_the_exit_code_is_non_zero_from_the_shell(tmp_path):
    """What cron and systemd see: a failing job is exit status 1 (here: no database at all)."""
    import os
    import subprocess

    from tests.subprocesses import ROOT

    env = dict(
        os.environ, DATABASE_URL="postgres://nobody:x@127.0.0.1:1/none", MEDIA_ROOT=str(tmp_path)
    )
    done = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "housekeeping", "--only", "clearsessions"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "FAILED sessions" in done.stdout
    assert "job(s) failed: clearsessions" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_jobs_are_refused():
    with pytest.raises(CommandError, match="unknown job"):
        call_command("housekeeping", only="purge_everything")
