"""The store QR sheet (QR台紙): A4 PDF/PNG from the merchant side and from Django admin."""

from io import BytesIO

from PIL import Image

from payments.qr_sheet import render_pdf
from payments.selectors import store_pay_token
from tests import factories
from tests.pdftools import pdf_fonts, pdf_has_images, pdf_qr_codes, pdf_text

A4_AT_200_DPI = (1654, 2339)


def test_the_sheet_is_a_real_pdf_whose_qr_opens_the_store_pay_url(small_store, settings):
    data = render_pdf([small_store]).getvalue()
    url = f"{settings.SITE_URL}/pay/s/{store_pay_token(small_store)}/"
    assert pdf_qr_codes(data) == [url]
    text = pdf_text(data)
    assert small_store.name in text
    assert f"{small_store.passcode[:3]} {small_store.passcode[3:]}" in text
    assert small_store.programme.name in text
    # Text in an embedded subset font and the QR as vectors: no picture on the page.
    assert [(f["embedded"], f["subset"]) for f in pdf_fonts(data)] == [(True, True)]
    assert not pdf_has_images(data)


def test_merchant_downloads_own_store_sheet(client, merchant_login, company_admin, small_store):
    merchant_login(client, company_admin)
    response = client.get(f"/merchant/stores/{small_store.pk}/qr-sheet.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    response = client.get(f"/merchant/stores/{small_store.pk}/qr-sheet.png")
    image = Image.open(BytesIO(b"".join(response.streaming_content)))
    assert image.size == A4_AT_200_DPI


def test_another_companys_store_sheet_is_not_found(
    client, merchant_login, other_company_admin, small_store
):
    merchant_login(client, other_company_admin)
    assert client.get(f"/merchant/stores/{small_store.pk}/qr-sheet.pdf").status_code == 404


def test_store_managers_only_get_their_own_store_and_store_staff_none(
    client, merchant_login, store_manager, store_staff, company, programme
):
    sibling = factories.store(company, programme)
    merchant_login(client, store_manager)
    assert client.get(f"/merchant/stores/{store_manager.store_id}/qr-sheet.pdf").status_code == 200
    assert client.get(f"/merchant/stores/{sibling.pk}/qr-sheet.pdf").status_code == 404
    merchant_login(client, store_staff)  # 店舗担当者 use the store app only
    assert client.get(f"/merchant/stores/{store_staff.store_id}/qr-sheet.pdf").status_code == 403


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


def test_the_sheet_is_japanese_whatever_the_browser_and_names_the_programme_contact(
    client, merchant_login, company_admin, small_store
):
    small_store.programme.contact = "青葉市 商工課 022-000-0000"
    small_store.programme.save()
    merchant_login(client, company_admin)
    response = client.get(
        f"/merchant/stores/{small_store.pk}/qr-sheet.pdf", HTTP_ACCEPT_LANGUAGE="en"
    )
    text = pdf_text(b"".join(response.streaming_content))
    assert "パスコード" in text and "Passcode" not in text
    assert "022-000-0000" in text


def test_rotating_secret_key_voids_no_sheet_and_a_new_store_token_voids_its_own(
    resident, small_store, large_store, settings, city_staff
):
    """Sheets carry a random per-store token stored in the database, not a SECRET_KEY signature."""
    from django.test import Client

    from tests import factories as f

    url = f"/pay/s/{store_pay_token(small_store)}/"
    other = f"/pay/s/{store_pay_token(large_store)}/"
    assert resident.get(url).status_code == 200
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-brand-new-key-after-rotation-" + "x" * 30
    assert resident.get(url).status_code == 200  # still works

    staff = f.staff_login(Client(), city_staff)
    response = staff.post(
        "/admin/merchants/store/",
        {"action": "new_sheet_token", "_selected_action": [small_store.pk]},
        follow=True,
    )
    assert "印刷" in response.content.decode()
    assert resident.get(url).status_code == 404  # the old sheet of that store only
    assert resident.get(other).status_code == 200
    small_store.refresh_from_db()
    assert resident.get(f"/pay/s/{store_pay_token(small_store)}/").status_code == 200
