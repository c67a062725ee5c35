"""A household signs in from its printed notice: the phone's camera app reads the sign-in QR
(here zbarimg on the page rendered at 200 dpi), Chromium opens that URL with the ticket number
filled in, and the PIN printed beside it opens the ticket."""

import csv
import io

import pytest

from tests import factories
from tests.pdftools import pdf_qr_codes
from wallets import services
from wallets.notices import grouped_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_household_signs_in_from_the_qr_and_pin_on_its_notice(
    live_server, settings, phone, screenshot, city_staff
):
    settings.SITE_URL = live_server.url
    programme = factories.programme(name="テスト市プレミアム付商品券")
    common = factories.value_type(programme, code="common", name="共通券")
    wallet = factories.funded_wallet(programme, {common: 12_000})
    batch = services.notice_batch_write(
        services.notice_batch_create(
            programme=programme, actor=city_staff, wallet_ids=[wallet.pk], enqueue=False
        )
    )
    with batch.csv.open("rb") as file:
        (row,) = csv.DictReader(io.StringIO(file.read().decode("utf-8-sig")))
    assert row["チケット番号"] == grouped_ticket(wallet.ticket_number)

    login = next(code for code in pdf_qr_codes(batch.pdf.read(), dpi=200) if "/login/" in code)
    phone.goto(login)
    assert phone.get_by_label("チケット番号").input_value() == wallet.ticket_number
    screenshot(phone, "1-opened-from-the-notice")
    phone.get_by_label("暗証番号").fill(row["暗証番号"])
    phone.get_by_role("button", name="ログイン").click()
    phone.get_by_text("12,000 円").first.wait_for()
    screenshot(phone, "2-signed-in")
