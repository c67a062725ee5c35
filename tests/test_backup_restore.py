"""scripts/backup.sh under load and scripts/restore.sh into a fresh database: the restored ledger
passes check_ledger, its totals are those of the dumped snapshot, and every restored payment is
one the source has, unchanged."""

import json
import os
import subprocess
import threading
import time
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection

from payments import services
from payments.models import Payment
from tests import factories
from tests.subprocesses import HOST, ROOT, database_url

WALLETS = 8


def url_for(name: str) -> str:
    db = connection.settings_dict
    credentials = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}"
    return f"postgres://{credentials}@{db['HOST'] or HOST}:{db['PORT'] or 5432}/{name}"


def run(script, directory, **env):
    started = time.perf_counter()
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / script), str(directory)],
        cwd=ROOT,
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done, time.perf_counter() - started


@pytest.fixture
def fresh_database():
    name = f"{connection.settings_dict['NAME']}_restored"
    with psycopg.connect(database_url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield url_for(name)
    with psycopg.connect(database_url(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_under_load_restores_whole(
    tmp_path, media_root, programme, common, small_store, fresh_database, capsys
):
    wallets = [factories.funded_wallet(programme, {common: 1_000_000}) for _ in range(WALLETS)]
    (media_root / "exports").mkdir(parents=True)
    (media_root / "exports" / "usage-2026-11.csv").write_bytes("番号,金額\r\n1,1120\r\n".encode())
    stop, made, errors = threading.Event(), [], []

    def pay(wallet):
        n = 0
        try:
            while not stop.is_set():
                n += 1
                services.payment_create_mpm(
                    wallet=wallet, store=small_store, amount=100 + n % 7, idempotency_key=f"b{n}"
                )
                made.append(1)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(w,)) for w in wallets]
    for thread in threads:
        thread.start()
    while len(made) < 50:
        time.sleep(0.01)
    before = Payment.objects.count()
    backup_dir = tmp_path / "backup"
    backup, backup_seconds = run(
        "backup.sh", backup_dir, DATABASE_URL=database_url(), MEDIA_ROOT=str(media_root)
    )
    after = len(made)
    time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join()
    assert not errors
    assert backup.returncode == 0, backup.stderr
    assert after > before  # payments went on while the dump ran

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert {f["name"] for f in manifest["files"]} == {"database.dump", "media.tar", "totals.json"}
    assert all(f["bytes"] > 0 and len(f["sha256"]) == 64 for f in manifest["files"])

    restored_media = tmp_path / "restored-media"
    restore, restore_seconds = run(
        "restore.sh", backup_dir, DATABASE_URL=fresh_database, MEDIA_ROOT=str(restored_media)
    )
    assert restore.returncode == 0, restore.stderr
    assert "totals match the backup" in restore.stdout
    assert "BAD" not in restore.stdout
    assert "OK  unbalanced journal entries: 0" in restore.stdout
    assert (restored_media / "exports" / "usage-2026-11.csv").read_bytes() == (
        media_root / "exports" / "usage-2026-11.csv"
    ).read_bytes()

    # Every restored payment is in the source, same amount and status; none is missing from the
    # snapshot's count, and the totals of the two are those of that snapshot.
    with psycopg.connect(fresh_database) as restored:
        rows = restored.execute("SELECT number, amount, status FROM payments_payment").fetchall()
        (wallet_total,) = restored.execute(
            "SELECT sum(balance) FROM wallets_account WHERE kind = 'wallet'"
        ).fetchone()
    source = {p.number: (p.amount, p.status) for p in Payment.objects.all()}
    assert before <= len(rows) <= len(source)
    assert all(source[number] == (amount, status) for number, amount, status in rows)
    totals = json.loads((backup_dir / "totals.json").read_text())
    assert totals["payments"] == len(rows)
    assert totals["payment_yen"] == sum(amount for _, amount, _ in rows)
    assert wallet_total == WALLETS * 1_000_000 - totals["payment_yen"]

    # A second restore into the now full database is refused and changes nothing.
    again, _ = run(
        "restore.sh", backup_dir, DATABASE_URL=fresh_database, MEDIA_ROOT=str(tmp_path / "m2")
    )
    assert again.returncode == 1
    assert "the database is not empty" in again.stderr
    with capsys.disabled():
        print(
            f"\nbackup {backup_seconds:.2f} s, restore (with check_ledger) {restore_seconds:.2f} s, "
            f"{len(rows)} payments in the snapshot, {len(source)} in the source"
        )


def test_a_damaged_backup_is_refused(tmp_path):
    directory = tmp_path / "backup"
    directory.mkdir()
    (directory / "database.dump").write_bytes(b"x")
    (directory / "SHA256SUMS").write_text("0" * 64 + "  database.dump\n")
    done, _ = run("restore.sh", directory, DATABASE_URL="postgres://nobody@127.0.0.1:1/none")
    assert done.returncode == 1
    assert "damaged" in done.stderr
