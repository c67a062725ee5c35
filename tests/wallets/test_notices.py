"""交付通知書: real PDF pages (text, embedded font, vector QR) and a vendor CSV, written by the
worker from a whole import or chosen tickets; a reissue makes the old PIN and card useless."""

import csv
import io
import re
import subprocess

import pytest
from django.core.management import call_command

from core.models import AuditLog
from payments import services as payment_services
from payments.exceptions import SignInFailed
from tests import factories
from tests.pdftools import pdf_fonts, pdf_has_images, pdf_pages, pdf_qr_codes, pdf_text
from wallets import services
from wallets.models import ImportRun, NoticeBatch, Resident, Wallet
from wallets.notices import grouped_ticket

pytestmark = pytest.mark.django_db

HOUSEHOLDS = [
    ("100-0001", "東京都千代田区千代田1-1 テストハイツ101号", "山田 太郎", "A0001"),
    ("060-0001", "北海道札幌市中央区北1条西2丁目", "佐藤 花子", "A0002"),
    ("900-0001", "沖縄県那覇市港町1-2-3", '=HYPERLINK("http://x")', "A0003"),
]


@pytest.fixture
def households(programme, common, local):
    run = ImportRun.objects.create(
        programme=programme, kind=ImportRun.Kind.RESIDENTS, filename="r.csv", digest="0" * 64
    )
    wallets = []
    for postal_code, address, name, external_id in HOUSEHOLDS:
        wallet = factories.funded_wallet(programme, {common: 10_000, local: 3_000})
        Resident.objects.filter(pk=wallet.resident_id).update(
            postal_code=postal_code, address=address, name=name, external_id=external_id
        )
        Wallet.objects.filter(pk=wallet.pk).update(imported_by=run)
        wallets.append(wallet)
    return run, wallets


def write(batch) -> NoticeBatch:
    return services.notice_batch_write(NoticeBatch.objects.get(pk=batch.pk))


def test_a_whole_import_prints_one_real_page_per_household(
    households, programme, city_staff, settings
):
    run, wallets = households
    batch = write(
        services.notice_batch_create(
            programme=programme, actor=city_staff, import_run=run, enqueue=False
        )
    )
    assert (batch.status, batch.pages_done, batch.pages_total) == ("done", 3, 3)
    data = batch.pdf.read()
    assert pdf_pages(data) == 3
    # Sorted by postal code for the vendor: 060 (Sapporo) first.
    first = pdf_text(data, page=1)
    assert "〒060-0001" in first and "佐藤 花子 様" in first
    text = pdf_text(data)
    for wallet, (_postal, address, name, _id) in zip(wallets, HOUSEHOLDS, strict=True):
        assert grouped_ticket(wallet.ticket_number) in text
        assert name in text and address in text
    assert "10,000 円" in text and "3,000 円" in text
    fonts = pdf_fonts(data)  # reportlab writes 256 glyphs per subset
    assert fonts and all(f["embedded"] and f["subset"] and "IPAex" in f["name"] for f in fonts)
    assert not pdf_has_images(data)
    audit = AuditLog.objects.filter(action="wallets.notice_batch.written").get()
    assert audit.data["pages"] == 3 and len(audit.data["pdf_sha256"]) == 64


def pin_and_card(batch, wallet) -> tuple[str, str]:
    """The PIN and card token the vendor CSV gives for the ticket."""
    with batch.csv.open("rb") as file:
        rows = list(csv.DictReader(io.StringIO(file.read().decode("utf-8-sig"))))
    row = next(r for r in rows if r["チケット番号"] == grouped_ticket(wallet.ticket_number))
    return row["暗証番号"], row["カードコード（QR）"]


def test_the_qr_codes_open_the_sign_in_and_the_card_resolves_to_the_ticket(
    households, programme, city_staff, settings
):
    _run, wallets = households
    wallet = wallets[0]
    batch = write(
        services.notice_batch_create(
            programme=programme, actor=city_staff, wallet_ids=[wallet.pk], enqueue=False
        )
    )
    data = batch.pdf.read()
    codes = pdf_qr_codes(data, dpi=200)
    login = f"{settings.SITE_URL}/login/?ticket={wallet.ticket_number}"
    assert login in codes
    card = next(code for code in codes if code != login)
    assert card.startswith(services.CARD_TOKEN_PREFIX) and wallet.ticket_number not in card
    assert services.wallet_for_card(card) == wallet
    pin, card_in_csv = pin_and_card(batch, wallet)
    assert card_in_csv == card
    assert pin in pdf_text(data)
    assert (
        payment_services.resident_sign_in(
            ticket_number=wallet.ticket_number, pin=pin, client_address="192.0.2.1"
        )
        == wallet
    )


def test_vendor_csv_has_the_same_fields_and_no_cell_runs_as_a_formula(
    households, programme, city_staff, common, local
):
    run, _wallets = households
    batch = write(
        services.notice_batch_create(
            programme=programme, actor=city_staff, import_run=run, enqueue=False
        )
    )
    raw = batch.csv.read()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as Excel wants it
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["郵便番号"] for r in rows] == ["060-0001", "100-0001", "900-0001"]
    okinawa = rows[2]
    assert okinawa["氏名"] == '\'=HYPERLINK("http://x")'
    assert okinawa["住所"] == "沖縄県那覇市港町1-2-3"
    assert okinawa["宛名番号"] == "A0003"
    assert okinawa["ログインURL（QR）"].endswith(
        "/login/?ticket=" + okinawa["チケット番号"].replace(" ", "")
    )
    assert okinawa["共通券 金額"] == "10000" and okinawa["専用券 金額"] == "3000"
    assert okinawa["専用券 使えるお店"] == "中小・地元のお店のみ"
    assert re.fullmatch(r"\d{6}", okinawa["暗証番号"])


def test_reissue_voids_the_old_pin_and_card_at_once_and_prints_new_ones(
    households, programme, city_staff
):
    run, wallets = households
    wallet = wallets[1]
    first = write(
        services.notice_batch_create(
            programme=programme, actor=city_staff, import_run=run, enqueue=False
        )
    )
    old_pin, old_card = pin_and_card(first, wallet)

    reissue = services.wallet_notice_reissue(wallet=wallet, actor=city_staff)
    assert reissue.kind == "reissue" and reissue.pages_total == 1
    # Before the new notice is even written, the old PIN and card open nothing.
    with pytest.raises(SignInFailed):
        payment_services.resident_sign_in(
            ticket_number=wallet.ticket_number, pin=old_pin, client_address="192.0.2.2"
        )
    assert services.wallet_for_card(old_card) is None

    reissue = write(reissue)
    new_pin, new_card = pin_and_card(reissue, wallet)
    assert pdf_pages(reissue.pdf.read()) == 1
    assert services.wallet_for_card(new_card) == wallet
    assert (
        payment_services.resident_sign_in(
            ticket_number=wallet.ticket_number, pin=new_pin, client_address="192.0.2.3"
        )
        == wallet
    )
    # The other households' notices still work.
    other_pin, _card = pin_and_card(first, wallets[0])
    assert Wallet.objects.get(pk=wallets[0].pk).check_pin(other_pin)
    assert AuditLog.objects.filter(
        action="wallets.wallet.notice_reissued", object_id=str(wallet.pk)
    ).exists()


def test_tickets_of_another_programme_or_none_are_refused(programme, city_staff):
    other = factories.wallet(factories.programme())
    for ids in ([], [other.pk]):
        with pytest.raises(services.NoticeSetInvalid):
            services.notice_batch_create(programme=programme, actor=city_staff, wallet_ids=ids)
    assert not NoticeBatch.objects.exists()


def test_print_notices_command_writes_the_pdf_and_csv_files(
    households, programme, tmp_path, capsys
):
    run, _wallets = households
    factories.wallet(programme)  # not in the import: left out
    out = tmp_path / "out" / "notices.pdf"
    call_command("print_notices", programme=programme.code, out=str(out), import_id=run.pk, limit=2)
    data = out.read_bytes()
    assert pdf_pages(data) == 2
    assert "〒060-0001" in pdf_text(data, page=1) and "〒100-0001" in pdf_text(data, page=2)
    rows = list(csv.reader(io.StringIO(out.with_suffix(".csv").read_text("utf-8-sig"))))
    assert len(rows) == 3
    assert "2 households" in capsys.readouterr().out
    call_command("print_notices", programme=programme.code, out=str(out))
    assert pdf_pages(out.read_bytes()) == 4  # the whole programme


def test_print_notices_command_refuses_bad_arguments(programme, tmp_path):
    from django.core.management.base import CommandError

    for kwargs, message in [
        ({"programme": "nope"}, "no programme"),
        ({"programme": programme.code, "import_id": 999999}, "no import"),
        ({"programme": programme.code, "limit": 0}, "--limit"),
        ({"programme": programme.code}, "交付通知書を作成する"),
    ]:
        with pytest.raises(CommandError, match=message):
            call_command("print_notices", out=str(tmp_path / "x.pdf"), **kwargs)
    assert not (tmp_path / "x.pdf").exists()


def test_long_names_and_addresses_stay_in_the_envelope_window_and_the_contact_is_printed(
    programme, common, city_staff
):
    programme.contact = "テスト市 商工観光課 電話 0120-000-000（平日 9時〜17時）"
    programme.save()
    wallet = factories.funded_wallet(programme, {common: 1_000})
    long_name = "寿限無寿限無五劫の擦り切れ海砂利水魚の水行末雲来末風来末食う寝る処に住む処"
    Resident.objects.filter(pk=wallet.resident_id).update(
        name=long_name, address="東京都千代田区" * 12, postal_code=""
    )
    batch = write(
        services.notice_batch_create(
            programme=programme, actor=city_staff, wallet_ids=[wallet.pk], enqueue=False
        )
    )
    data = batch.pdf.read()
    text = pdf_text(data)
    assert "〒" not in text  # no postal code: no empty 〒
    assert "…" in text  # cut, not drawn past the window
    assert "お問い合わせ：テスト市 商工観光課 電話 0120-000-000（平日 9時〜17時）" in " ".join(
        text.split()
    )
    # Everything inside the page: poppler's bounding boxes of the words stay within A4.
    boxes = subprocess.run(
        ["pdftotext", "-bbox", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    right_edges = [float(x) for x in re.findall(r'xMax="([\d.]+)"', boxes)]
    assert right_edges and max(right_edges) <= 595.3 - 20 * 72 / 25.4 + 1  # the right margin


def test_a_batch_that_fails_is_marked_failed_and_can_be_written_again(
    households, programme, city_staff, monkeypatch
):
    run, _wallets = households
    batch = services.notice_batch_create(
        programme=programme, actor=city_staff, import_run=run, enqueue=False
    )

    def broken(self, household):
        raise OSError("disk full")

    monkeypatch.setattr("wallets.notices.NoticeWriter.page", broken)
    with pytest.raises(OSError):
        write(batch)
    batch.refresh_from_db()
    assert (batch.status, batch.error, batch.pdf.name, batch.csv.name) == (
        "failed",
        "disk full",
        "",
        "",
    )
    monkeypatch.undo()
    batch = write(batch)
    assert batch.status == "done" and pdf_pages(batch.pdf.read()) == 3
