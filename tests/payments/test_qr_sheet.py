"""The store QR sheet (QR台紙): A4 PDF/PNG from the merchant side and from Django admin."""

from io import BytesIO

import qrcode
from PIL import Image

from payments.qr_sheet import A4, render_page
from payments.selectors import store_pay_token
from tests import factories


def drawn_qr_modules(page) -> list[list[bool]]:
    """The QR drawn on the page in pure black, read back module by module from its pixels."""
    black = Image.eval(page.convert("L"), lambda v: 255 if v == 0 else 0)
    left, top, right, _bottom = black.getbbox()  # finder patterns fill the symbol's corners
    finder_width = next(x for x in range(left, right) if not black.getpixel((x, top))) - left
    module = finder_width / 7  # a finder pattern is 7 modules wide
    count = round((right - left) / module)
    return [
        [
            black.getpixel((int(left + (i + 0.5) * module), int(top + (j + 0.5) * module))) == 255
            for i in range(count)
        ]
        for j in range(count)
    ]


def test_the_sheet_is_an_a4_page_whose_qr_opens_the_store_pay_url(small_store, settings):
    page = render_page(small_store)
    assert page.size == A4

    url = f"{settings.SITE_URL}/pay/s/{store_pay_token(small_store)}/"
    expected = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    expected.add_data(url)
    assert drawn_qr_modules(page) == expected.get_matrix()


def test_merchant_downloads_own_store_sheet(client, merchant_login, company_admin, small_store):
    merchant_login(client, company_admin)
    response = client.get(f"/merchant/stores/{small_store.pk}/qr-sheet.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    response = client.get(f"/merchant/stores/{small_store.pk}/qr-sheet.png")
    image = Image.open(BytesIO(b"".join(response.streaming_content)))
    assert image.size == A4


def test_another_companys_store_sheet_is_not_found(
    client, merchant_login, other_company_admin, small_store
):
    merchant_login(client, other_company_admin)
    assert client.get(f"/merchant/stores/{small_store.pk}/qr-sheet.pdf").status_code == 404


def test_store_staff_only_get_their_own_store(
    client, merchant_login, store_staff, company, programme
):
    sibling = factories.store(company, programme)
    merchant_login(client, store_staff)
    assert client.get(f"/merchant/stores/{store_staff.store_id}/qr-sheet.pdf").status_code == 200
    assert client.get(f"/merchant/stores/{sibling.pk}/qr-sheet.pdf").status_code == 404


def test_signed_out_merchants_are_sent_to_sign_in(client, small_store):
    response = client.get(f"/merchant/stores/{small_store.pk}/qr-sheet.pdf")
    assert response.status_code == 302 and response["Location"].startswith("/merchant/login/")


def test_admin_action_downloads_one_page_per_store(client, city_staff, small_store, large_store):
    factories.staff_login(client, city_staff)
    response = client.post(
        "/admin/merchants/store/",
        {"action": "download_qr_sheets", "_selected_action": [small_store.pk, large_store.pk]},
    )
    assert response["Content-Type"] == "application/pdf"
    pdf = b"".join(response.streaming_content)
    assert pdf.startswith(b"%PDF")
    assert b"/Count 2" in pdf  # one A4 page per selected store
