"""A worker killed with SIGKILL halfway through an import: running it again finishes the job
with every household created and granted exactly once."""

import signal
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count

from tests.subprocesses import start_worker
from wallets import imports, tasks
from wallets.models import Account, ImportRun, JournalEntry, Resident, Wallet

HOUSEHOLDS = 5_000


def wait_for(probe, seconds=120):
    deadline = time.monotonic() + seconds
    while not (result := probe()):
        if time.monotonic() > deadline:
            pytest.fail("the worker did not get there in time")
        time.sleep(0.02)
    return result


@pytest.mark.django_db(transaction=True)
def test_a_killed_import_runs_again_to_the_end_without_duplicates(
    tmp_path, media_root, programme, common
):
    rows = "".join(
        f"K{n:05d},市民 {n},シミン,1234567,青葉市中央{n},common,1000\n" for n in range(HOUSEHOLDS)
    )
    run = imports.import_start(
        programme=programme,
        kind="residents",
        upload=SimpleUploadedFile(
            "big.csv",
            ("external_id,name,name_kana,postal_code,address,value_type,amount\n" + rows).encode(),
        ),
        dry_run=False,
        actor=None,
    )
    tasks.run_import.enqueue(import_id=run.pk)

    worker = start_worker(tmp_path, media_root)
    try:
        progress = ImportRun.objects.filter(pk=run.pk).values_list("rows_done", flat=True)
        wait_for(lambda: 0 < progress.get() < HOUSEHOLDS)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    run.refresh_from_db()
    assert run.status == "running" and 0 < run.rows_done < HOUSEHOLDS  # stopped halfway
    assert Wallet.objects.count() == run.rows_done  # each chunk committed whole, with its count

    # City staff press もう一度実行; a worker picks it up and resumes.
    tasks.run_import.enqueue(import_id=run.pk)
    worker = start_worker(tmp_path, media_root)
    try:
        wait_for(lambda: ImportRun.objects.get(pk=run.pk).finished)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    run.refresh_from_db()
    assert (run.status, run.rows_done, run.created_count, run.granted_count) == (
        "done",
        HOUSEHOLDS,
        HOUSEHOLDS,
        HOUSEHOLDS,
    )
    assert Resident.objects.count() == Wallet.objects.count() == HOUSEHOLDS
    assert JournalEntry.objects.filter(kind="grant").count() == HOUSEHOLDS
    assert not Wallet.objects.values("resident").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert Account.objects.get(kind="issuance").balance == -HOUSEHOLDS * 1000
