"""The test of scripts/cluster.sh: real payments through nginx to two app servers while a CSV
export runs on the replica; one app server is killed mid-run. Passes when check_ledger is green
and every acknowledged payment is in the database exactly once. Prints the figures.

Run by `scripts/cluster.sh test` with the cluster's direct environment (env.direct).
"""

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import psycopg  # noqa: E402
from django.db import connection  # noqa: E402

from core.checkdigit import damm_digit  # noqa: E402
from merchants.models import Company, Store, Terminal, User  # noqa: E402
from merchants.portal.exports import export_request  # noqa: E402
from merchants.portal.selectors import HistoryFilters  # noqa: E402
from payments import services  # noqa: E402
from payments.models import Payment  # noqa: E402
from wallets import ledger  # noqa: E402
from wallets.models import Programme, Resident, ValueType, Wallet  # noqa: E402

HOST, PORT = "127.0.0.1", int(os.environ.get("HTTP_PORT", "8110"))
CLIENTS = int(os.environ.get("CLUSTER_CLIENTS", "8"))
PRELOAD = int(os.environ.get("CLUSTER_PRELOAD", "6000"))
PHASE_SECONDS = float(os.environ.get("CLUSTER_PHASE_SECONDS", "15"))
PIN = "2468"
FAILURES = []


def fail(message):
    FAILURES.append(message)
    print(f"FAIL: {message}", flush=True)


def seed():
    """A programme, a store with a POS terminal, a company admin, one funded wallet per client,
    and PRELOAD payments (so the export has rows to stream)."""
    from django.utils import timezone

    today = timezone.localdate()
    programme = Programme.objects.create(
        code=f"cluster{int(time.time())}",
        name="クラスタ試験券",
        issuer="テスト市",
        starts_on=today.replace(day=1),
        ends_on=today.replace(year=today.year + 1),
    )
    common = ValueType.objects.create(
        programme=programme, code="common", name="共通券", expires_on=programme.ends_on
    )
    company = Company.objects.create(code=f"K{programme.pk:05d}", name="クラスタ商店")
    store = Store.objects.create(
        company=company,
        programme=programme,
        code=f"T{programme.pk:05d}",
        name="本店",
        passcode=f"{programme.pk % 1000000:06d}",
    )
    terminal = Terminal.objects.create(store=store, kind=Terminal.Kind.POS, name="レジ1")
    _key, raw_key = services.api_key_create(terminal=terminal, name="cluster")
    admin = User.objects.create(
        username=f"cluster-admin-{programme.pk}",
        role="company_admin",
        company=company,
        email="c@example.jp",
        must_change_password=False,
    )
    wallets = []
    for n in range(CLIENTS + 4):
        resident = Resident.objects.create(name=f"市民{n}")
        number = f"{programme.pk:04d}{n:07d}"
        wallet = Wallet(
            programme=programme, resident=resident, ticket_number=number + str(damm_digit(number))
        )
        wallet.set_pin(PIN)
        wallet.save()
        ledger.grant(wallet=wallet, value_type=common, amount=50_000_000)
        wallets.append(wallet)

    def preload(wallet, count, offset):
        try:
            for i in range(count):
                services.payment_create(
                    wallet=wallet,
                    store=store,
                    amount=100 + i % 900,
                    idempotency_key=f"preload-{store.pk}-{offset}-{i}",
                    mode=Payment.Mode.MPM,
                )
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [
        threading.Thread(target=preload, args=(w, PRELOAD // 4, n))
        for n, w in enumerate(wallets[CLIENTS:])
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(
        f"seeded {PRELOAD:,} payments directly in {time.perf_counter() - started:.1f} s", flush=True
    )
    return store, raw_key, admin, wallets[:CLIENTS]


class Browser:
    """A resident's phone (or a till): cookies kept, one keep-alive connection to nginx."""

    def __init__(self):
        self.cookies = {}
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, response.headers, data

    def sign_in(self, ticket):
        status, _, page = self.request("GET", "/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert status == 200 and token, f"sign-in page {status}"
        body = urlencode({"csrfmiddlewaretoken": token[1].decode(), "ticket": ticket, "pin": PIN})
        status, _headers, _ = self.request(
            "POST", "/login/", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert status == 302, f"sign-in answered {status}"


def drive(store, raw_key, wallets, results, stop, phase):
    """Each client: a new code from its phone (GET /code/new.json), the till pays it (POST
    /api/v1/payments); an unanswered payment is retried with the same key and code."""

    def client(n, wallet):
        phone, till = Browser(), Browser()
        phone.sign_in(wallet.ticket_number)
        i = 0
        while not stop.is_set():
            i += 1
            try:
                status, _, body = phone.request(
                    "POST",
                    "/code/new.json",
                    b"",
                    {"X-CSRFToken": phone.cookies.get("csrftoken", "")},
                )
                if status != 200:
                    results.append(("code", status, None, 0, "", phase[0], None))
                    time.sleep(0.2)
                    continue
                code = json.loads(body)["code"]
            except OSError:
                time.sleep(0.2)
                continue
            key = f"c{n}-{i}"
            payload = json.dumps({"code": code, "amount": 100 + i % 50}).encode()
            started = time.perf_counter()
            for attempt in range(20):
                try:
                    status, headers, body = till.request(
                        "POST",
                        "/api/v1/payments",
                        payload,
                        {
                            "Authorization": f"Bearer {raw_key}",
                            "Content-Type": "application/json",
                            "Idempotency-Key": key,
                        },
                    )
                except OSError:
                    status, headers, body = 0, {}, b""
                if status in (200, 201):
                    number = json.loads(body)["number"]
                    results.append(
                        (
                            "pay",
                            status,
                            number,
                            time.perf_counter() - started,
                            headers.get("X-Upstream", ""),
                            phase[0],
                            key,
                        )
                    )
                    break
                if status and status < 500:
                    results.append(("pay", status, None, 0, "", phase[0], body[:200]))
                    break
                time.sleep(
                    min(0.1 * (attempt + 1), 0.5)
                )  # 502/503/connection lost: the same request again
            else:
                results.append(("pay", status, None, 0, "", phase[0], "gave up"))

    threads = [threading.Thread(target=client, args=(n, w)) for n, w in enumerate(wallets)]
    for t in threads:
        t.start()
    return threads


def replica_sampler(stop, samples):
    primary = psycopg.connect(
        f"host=127.0.0.1 port={os.environ['PRIMARY_PORT']} dbname=postgres user=postgres",
        autocommit=True,
    )
    while not stop.is_set():
        row = primary.execute(
            "SELECT extract(epoch FROM coalesce(replay_lag, '0')), pg_wal_lsn_diff(sent_lsn, replay_lsn) "
            "FROM pg_stat_replication"
        ).fetchone()
        if row:
            samples.append((time.time(), float(row[0] or 0), int(row[1] or 0)))
        time.sleep(0.2)
    primary.close()


def replica_reads():
    with psycopg.connect(
        f"host=127.0.0.1 port={os.environ['REPLICA_PORT']} dbname=voucher user=postgres",
        autocommit=True,
    ) as replica:
        return replica.execute(
            "SELECT tup_returned FROM pg_stat_database WHERE datname = 'voucher'"
        ).fetchone()[0]


def percentile(values, fraction):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * fraction))] if values else 0


def main():
    store, raw_key, admin, wallets = seed()
    results, stop, phase = [], threading.Event(), ["two"]
    samples, sampler_stop = [], threading.Event()
    sampler = threading.Thread(target=replica_sampler, args=(sampler_stop, samples))
    sampler.start()
    time.sleep(1)  # the replica has replayed the seed
    reads_before = replica_reads()
    started = time.perf_counter()
    threads = drive(store, raw_key, wallets, results, stop, phase)

    time.sleep(2)
    export = export_request(actor=admin, filters=HistoryFilters.today(), encoding="utf-8")
    export_started = time.perf_counter()
    print(f"CSV export {export.pk} requested while paying", flush=True)

    time.sleep(max(PHASE_SECONDS - 2, 1))
    two_end = time.perf_counter()
    pid = int(Path(os.environ["APP1_PID_FILE"]).read_text().split()[0])
    os.killpg(os.getpgid(pid), signal.SIGKILL)  # the app server's master and workers, mid-request
    phase[0] = "one"
    print(f"killed app server 1 (pid {pid}) mid-run", flush=True)
    time.sleep(PHASE_SECONDS)
    stop.set()
    for t in threads:
        t.join()
    one_end = time.perf_counter()

    export.refresh_from_db()
    deadline = time.monotonic() + 300
    while export.status in ("pending", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        export.refresh_from_db()
    export_seconds = (
        (export.finished_at.timestamp() - export.created_at.timestamp())
        if export.finished_at
        else None
    )
    sampler_stop.set()
    sampler.join()
    reads_after = replica_reads()

    paid = [r for r in results if r[0] == "pay" and r[2]]
    refused = [r for r in results if r[0] == "pay" and not r[2]]
    code_errors = [r for r in results if r[0] == "code"]
    if refused:
        fail(f"{len(refused)} payments refused or given up, e.g. {refused[:3]}")
    numbers = [r[2] for r in paid]
    in_db = dict(
        Payment.objects.filter(number__in=numbers).values_list("number", "idempotency_key")
    )
    counts = {}
    for number in Payment.objects.filter(number__in=numbers).values_list("number", flat=True):
        counts[number] = counts.get(number, 0) + 1
    missing = [n for n in numbers if n not in in_db]
    twice = [n for n, c in counts.items() if c != 1]
    if len(set(numbers)) != len(numbers):
        fail("one payment acknowledged for two requests")
    if missing or twice:
        fail(f"acknowledged payments missing {missing[:5]} or present more than once {twice[:5]}")
    keys = {r[6] for r in paid}
    if len(keys) != len(paid):
        fail("a key acknowledged twice")

    ledger_check = subprocess.run(
        [sys.executable, "manage.py", "check_ledger"], cwd=ROOT, capture_output=True, text=True
    )
    print(
        ledger_check.stdout.strip().splitlines()[-1] if ledger_check.stdout else ledger_check.stderr
    )
    if ledger_check.returncode != 0:
        fail("check_ledger failed:\n" + ledger_check.stdout)
    if export.status != "done" or not export.row_count:
        fail(f"the CSV export ended {export.status} with {export.row_count} rows")
    elif reads_after - reads_before < export.row_count:
        fail(
            f"the export did not read from the replica ({reads_after - reads_before} rows read there)"
        )
    path = Path(os.environ["MEDIA_ROOT"]) / export.file.name if export.file else None
    if path is None or not path.exists():
        fail("the export file is not in the shared MEDIA_ROOT")

    two = [r for r in paid if r[5] == "two"]
    one = [r for r in paid if r[5] == "one"]
    upstreams = {}
    for r in two:
        upstreams[r[4]] = upstreams.get(r[4], 0) + 1
    if len([u for u in upstreams if "," not in u]) < 2:
        fail(f"nginx did not spread payments over both app servers: {upstreams}")
    two_seconds, one_seconds = two_end - started, one_end - two_end
    lags = [s[1] for s in samples]
    bytes_behind = [s[2] for s in samples]
    print(
        json.dumps(
            {
                "clients": CLIENTS,
                "acknowledged": len(paid),
                "two_servers": {
                    "payments_per_s": round(len(two) / two_seconds, 1),
                    "p50_ms": round(percentile([r[3] for r in two], 0.5) * 1000, 1),
                    "p99_ms": round(percentile([r[3] for r in two], 0.99) * 1000, 1),
                    "by_upstream": upstreams,
                },
                "one_server": {
                    "payments_per_s": round(len(one) / one_seconds, 1),
                    "p50_ms": round(percentile([r[3] for r in one], 0.5) * 1000, 1),
                    "p99_ms": round(percentile([r[3] for r in one], 0.99) * 1000, 1),
                },
                "code_page_errors": len(code_errors),
                "export": {
                    "rows": export.row_count,
                    "seconds": round(export_seconds or 0, 1),
                    "rows_read_on_replica": reads_after - reads_before,
                },
                "replica_lag": {
                    "max_s": round(max(lags, default=0), 3),
                    "max_bytes_behind": max(bytes_behind, default=0),
                },
                "export_wait_s": round(time.perf_counter() - export_started, 1),
            },
            ensure_ascii=False,
            indent=2,
        ),
        flush=True,
    )
    if FAILURES:
        print(f"cluster test FAILED: {len(FAILURES)} problem(s)")
        sys.exit(1)
    print("cluster test passed")


if __name__ == "__main__":
    main()
