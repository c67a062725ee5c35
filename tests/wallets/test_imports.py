"""取込: residents and tickets, or grants to tickets, from a city's CSV, through Django admin and
the real django-tasks-db worker (manage.py import_residents runs the same code in-process)."""

import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.checkdigit import damm_valid
from core.models import AuditLog
from settlement.selectors import programme_figures
from tests import factories
from wallets import imports
from wallets.models import Account, ImportRun, JournalEntry, NoticeBatch, Resident, Wallet

# The worker closes its connection when done: each test commits for real.
pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "external_id,name,name_kana,postal_code,address,value_type,amount\n"
HOUSEHOLDS = (
    HEADER + "H0001,山田 太郎,ヤマダ タロウ,123-4567,青葉市中央1-2-3,common,10000\n"
    'H0002,佐藤 花子,サトウ ハナコ,１２３４５６８,青葉市中央2-3-4 青葉ハイツ101,common,"10,000"\n'
    "H0003,鈴木 一郎,,1234569,青葉市東1-1,,\n"
)


@pytest.fixture
def staff_client(client, city_staff):
    return factories.staff_login(client, city_staff)


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def upload(
    client,
    programme,
    text,
    *,
    kind="residents",
    apply=False,
    encoding="utf-8-sig",
    name="households.csv",
):
    data = text if isinstance(text, bytes) else text.encode(encoding)
    form = {"programme": programme.pk, "kind": kind, "file": SimpleUploadedFile(name, data)}
    form["apply" if apply else "check"] = "1"
    return client.post(reverse("admin:wallets_importrun_add"), form)


def imported(client, programme, text, **kw) -> ImportRun:
    """Upload as city staff do, let the worker run it, and return the finished run."""
    response = upload(client, programme, text, **kw)
    assert response.status_code == 302, response.text[:500]
    run_worker()
    return ImportRun.objects.get(pk=int(response.url.rstrip("/").split("/")[-2]))


def held(wallet, code):
    return Account.objects.get(wallet=wallet, value_type__code=code).balance


def test_dry_run_lists_every_rejected_row_in_japanese_and_writes_nothing(
    staff_client, programme, common
):
    text = HOUSEHOLDS + (
        "H0004,,,1234567,住所,common,1000\n"  # no name
        "H0005,高橋,,12-345,住所,common,1000\n"  # postal code
        "H0006,田中,,1234567,住所,nosuch,1000\n"  # value type
        "H0007,伊藤,,1234567,住所,common,-5\n"  # amount
        "H0008,渡辺,,1234567,住所,common,1000000000\n"  # an extra zero or three
        "H0001,山田 太郎,,1234567,住所,common,1000\n"  # H0001 twice
    )
    run = imported(staff_client, programme, text)

    assert (run.status, run.dry_run, run.rows_total) == ("done", True, 9)
    lines = {row["line"]: row["reason"] for row in run.rejected}
    assert sorted(lines) == [2, 5, 6, 7, 8, 9, 10]
    assert lines[5] == "未入力: name。"
    assert "郵便番号は7桁" in lines[6]
    assert "券種「nosuch」はありません" in lines[7]
    assert "金額は1〜1,000,000円の整数" in lines[8] == lines[9]
    assert "重複しています（2, 10 行目）" in lines[2]
    # What applying would do: H0002 and H0003 are new; only H0002 has a grant.
    assert (run.created_count, run.granted_count, run.granted_total) == (2, 1, 10_000)
    assert not Resident.objects.exists() and not JournalEntry.objects.exists()

    page = staff_client.get(reverse("admin:wallets_importrun_change", args=[run.pk]))
    assert "不備のある行 7 件" in page.text and "不備のない行を取り込む" in page.text
    assert 'http-equiv="refresh"' not in page.text  # finished: no more refreshing
    rejected_csv = staff_client.get(reverse("admin:wallets_importrun_rejected", args=[run.pk]))
    rows = list(csv.reader(io.StringIO(rejected_csv.content.decode("utf-8-sig"))))
    assert rows[0] == ["行", "番号", "理由"] and len(rows) == 8


def test_apply_creates_residents_tickets_and_grants_once_however_often_it_is_sent(
    staff_client, programme, common
):
    first = imported(staff_client, programme, HOUSEHOLDS, apply=True)
    again = imported(staff_client, programme, HOUSEHOLDS, apply=True)
    overlap = [*HOUSEHOLDS.splitlines()[0:2], "H0009,中村 美咲,,9800001,青葉市西9,common,12000"]
    later = imported(
        staff_client,
        programme,
        "\n".join(overlap) + "\n",
        apply=True,
    )

    assert [
        (r.status, r.created_count, r.granted_count, r.granted_total) for r in (first, again, later)
    ] == [
        ("done", 3, 2, 20_000),
        ("done", 0, 0, 0),
        ("done", 1, 1, 12_000),
    ]
    assert Resident.objects.count() == Wallet.objects.count() == 4
    hanako = Wallet.objects.get(resident__external_id="H0002")
    assert hanako.resident.postal_code == "123-4568"  # full-width digits, read as digits
    assert hanako.resident.address == "青葉市中央2-3-4 青葉ハイツ101"
    assert hanako.imported_by == first and held(hanako, "common") == 10_000
    assert all(damm_valid(w.ticket_number) for w in Wallet.objects.all())
    # No PIN exists until a notice prints one.
    assert not hanako.check_pin("") and hanako.pin_hash.startswith("!")
    assert JournalEntry.objects.filter(kind="grant").count() == 3
    audit = AuditLog.objects.filter(action="wallets.import.applied").order_by("pk")
    assert [(a.data["created"], a.data["granted"], a.data["digest"]) for a in audit] == [
        (3, 2, first.digest),
        (0, 0, first.digest),
        (1, 1, later.digest),
    ]


def test_a_later_file_with_another_amount_for_a_household_grants_nothing_more(
    staff_client, programme, common
):
    imported(staff_client, programme, HOUSEHOLDS, apply=True)
    changed = HOUSEHOLDS.replace("common,10000", "common,15000")
    run = imported(staff_client, programme, changed, apply=True)

    assert run.status == "done" and run.granted_count == 0
    assert [r["line"] for r in run.rejected] == [2]
    assert "10,000 円付与済み" in run.rejected[0]["reason"]
    assert held(Wallet.objects.get(resident__external_id="H0001"), "common") == 10_000


def test_shift_jis_from_excel_imports_like_utf8(staff_client, programme, common):
    run = imported(
        staff_client,
        programme,
        HOUSEHOLDS.replace("\n", "\r\n"),
        apply=True,
        encoding="cp932",
    )
    assert run.status == "done" and run.created_count == 3
    assert Resident.objects.get(external_id="H0001").name_kana == "ヤマダ タロウ"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"external_id,name\x82\xff\n", "UTF-8 でも Shift_JIS でもありません"),
        (b"\x00\x01PK\x03\x04", "CSVのテキストファイルではありません"),
        (b"ticket,amount\n1,2\n", "1行目は列名にしてください"),
        ((HEADER + "H1,=cmd|' /C calc'!A0,,1234567,a,,\n").encode(), "2 行目に表計算の数式"),
        ((HEADER + "H1,@SUM(A1),,1234567,a,,\n").encode(), "数式"),
        (HEADER.encode(), "見出し行以外の行がありません"),
    ],
)
def test_a_bad_file_is_refused_with_a_reason_and_changes_nothing(
    staff_client, programme, common, data, message
):
    run = imported(staff_client, programme, data, apply=True)

    assert run.status == "rejected" and message in run.error
    assert not Resident.objects.exists() and not JournalEntry.objects.exists()
    page = staff_client.get(reverse("admin:wallets_importrun_change", args=[run.pk]))
    assert message in page.text.replace("&#x27;", "'")


def test_a_50_mb_file_is_refused_at_the_upload(staff_client, programme, settings):
    huge = HEADER.encode() + b"x" * (50 * 1024 * 1024)
    response = upload(staff_client, programme, huge)
    assert response.status_code == 200
    assert "ファイルが 20 MB を超えています" in response.text
    assert not ImportRun.objects.exists()


def test_grants_by_ticket_are_all_or_nothing_and_once(staff_client, programme, common, local):
    a, b = factories.wallet(programme), factories.wallet(programme)
    bad = (
        "ticket_number,value_type,amount,memo\n"
        f"{a.ticket_number},common,10000,第1回\n"
        "999999999999,common,10000,\n"
        f"{b.ticket_number},common,abc,\n"
    )
    refused = imported(staff_client, programme, bad, kind="grants", apply=True)
    assert refused.status == "rejected" and [r["line"] for r in refused.rejected] == [3, 4]
    assert "この事業にこの番号のチケットはありません" in refused.rejected[0]["reason"]
    assert not JournalEntry.objects.exists()

    good = (
        "ticket_number,value_type,amount,memo,paid_amount\n"
        f'{a.ticket_number},common,"13,000",プレミアム付商品券,10000\n'
        f"{a.ticket_number},local,3000,専用券,\n"
        f"{b.ticket_number[:4]}-{b.ticket_number[4:8]}-{b.ticket_number[8:]},common,13000,,10000\n"
    )
    checked = imported(staff_client, programme, good, kind="grants")
    assert (checked.granted_count, checked.granted_total) == (3, 29_000)
    staff_client.post(reverse("admin:wallets_importrun_apply", args=[checked.pk]))
    run_worker()
    again = imported(staff_client, programme, good, kind="grants", apply=True)

    applied = ImportRun.objects.get(dry_run=False, status="done", granted_count=3)
    assert applied.file.name == checked.file.name and again.granted_count == 0
    assert (held(a, "common"), held(a, "local"), held(b, "common")) == (13_000, 3_000, 13_000)
    assert JournalEntry.objects.filter(memo=f"取込 #{applied.pk}").count() == 3
    # The premium: residents paid 20,000 of the 29,000 granted, the city funds the rest.
    figures = programme_figures(programme)
    assert (figures.granted, figures.sales, figures.premium) == (29_000, 20_000, 9_000)
    assert figures.granted == figures.sales + figures.premium
    assert (
        figures.granted == figures.spent - figures.cancelled + figures.outstanding + figures.expired
    )


def test_the_command_checks_and_imports_with_the_same_rules(tmp_path, programme, common, capsys):
    path = tmp_path / "households.csv"
    path.write_text(HOUSEHOLDS + "H0004,,,1234567,住所,,\n", encoding="cp932")

    call_command("import_residents", "--programme", programme.code, "--dry-run", str(path))
    assert not Resident.objects.exists()
    call_command("import_residents", "--programme", programme.code, str(path))
    out, err = capsys.readouterr()
    assert "would create 3 tickets" in out and "created 3 tickets, 2 grants, 20,000 yen" in out
    assert "line 5: H0004: 未入力: name。" in err
    assert Wallet.objects.filter(imported_by__isnull=False).count() == 3

    path.write_text(HEADER + "H9,=1+1,,1234567,a,,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="数式"):
        call_command("import_residents", "--programme", programme.code, str(path))


def test_a_run_started_twice_counts_each_chunk_once(programme, common, settings, monkeypatch):
    """Run again while the first worker still runs: the second finds the chunk moved on."""
    monkeypatch.setattr(imports, "CHUNK_ROWS", 2)
    rows = "".join(f"K{n},市民{n},,1234567,住所,common,1000\n" for n in range(7))
    run = imports.import_start(
        programme=programme,
        kind="residents",
        upload=SimpleUploadedFile("k.csv", (HEADER + rows).encode()),
        dry_run=False,
        actor=None,
    )
    plan = imports.import_plan(run, (HEADER + rows).encode())
    imports._apply_chunk(plan, plan.accepted[:2], 0)
    with pytest.raises(imports.Superseded):
        imports._apply_chunk(plan, plan.accepted[:2], 0)  # the second worker's first chunk
    run.refresh_from_db()
    imports.import_run(run)
    run.refresh_from_db()
    assert (run.status, run.created_count, run.granted_count, run.granted_total) == (
        "done",
        7,
        7,
        7_000,
    )


def test_progress_page_refreshes_itself_until_the_worker_is_done(staff_client, programme, common):
    response = upload(staff_client, programme, HOUSEHOLDS, apply=True)
    page = staff_client.get(response.url)
    assert 'http-equiv="refresh"' in page.text and "待機中" in page.text
    assert re.search(r'<progress max="0" value="0">', page.text)


def test_an_applied_import_prints_its_notices_from_its_page(staff_client, programme, common):
    run = imported(staff_client, programme, HOUSEHOLDS, apply=True)
    page = staff_client.get(reverse("admin:wallets_importrun_change", args=[run.pk]))
    assert "この取込の交付通知書を作成" in page.content.decode()
    response = staff_client.post(reverse("admin:wallets_importrun_notices", args=[run.pk]))
    batch = NoticeBatch.objects.get()
    assert response["Location"] == reverse("admin:wallets_noticebatch_change", args=[batch.pk])
    assert batch.import_run == run and batch.pages_total == 3
    run_worker()
    batch.refresh_from_db()
    assert batch.status == "done"
    hanako = Wallet.objects.get(resident__external_id="H0002")
    assert hanako.credentials_issued_at is not None and not hanako.pin_hash.startswith("!")
