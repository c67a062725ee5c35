"""交付通知書 from Django admin: the Wallet actions, the worker, progress and audited downloads."""

from pathlib import Path

import pytest
from django.core.management import call_command

from core.models import AuditLog
from payments import services as payment_services
from payments.exceptions import SignInFailed
from tests import factories
from tests.pdftools import pdf_pages, pdf_text
from wallets.models import ImportRun, NoticeBatch, Wallet
from wallets.notices import grouped_ticket


def run_worker():
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_whole_filtered_import_becomes_one_batch_written_by_the_worker(
    client, city_staff, programme, common
):
    run = ImportRun.objects.create(
        programme=programme, kind=ImportRun.Kind.RESIDENTS, filename="r.csv", digest="0" * 64
    )
    wallets = [factories.funded_wallet(programme, {common: 5_000}) for _ in range(3)]
    Wallet.objects.filter(pk__in=[w.pk for w in wallets]).update(imported_by=run)
    factories.wallet(programme)  # another ticket, not in the import
    factories.staff_login(client, city_staff)
    response = client.post(
        f"/admin/wallets/wallet/?imported_by__id__exact={run.pk}",
        {"action": "print_notices", "_selected_action": [w.pk for w in wallets]},
    )
    batch = NoticeBatch.objects.get()
    assert response["Location"] == f"/admin/wallets/noticebatch/{batch.pk}/change/"
    assert batch.import_run == run and batch.pages_total == 3 and batch.status == "pending"
    page = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in page and "0 / 3" in page

    run_worker()
    page = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in page and "3 / 3" in page
    pdf = b"".join(client.get(f"/admin/wallets/noticebatch/{batch.pk}/file/pdf/").streaming_content)
    assert pdf_pages(pdf) == 3
    assert all(grouped_ticket(w.ticket_number) in pdf_text(pdf) for w in wallets)
    csv = b"".join(client.get(f"/admin/wallets/noticebatch/{batch.pk}/file/csv/").streaming_content)
    assert csv.startswith(b"\xef\xbb\xbf")
    assert client.get(f"/admin/wallets/noticebatch/{batch.pk}/file/exe/").status_code == 404
    downloads = AuditLog.objects.filter(action="wallets.notice_batch.downloaded")
    assert sorted(downloads.values_list("data__file", flat=True)) == ["csv", "pdf"]
    assert "交付通知書" in client.get("/admin/wallets/noticebatch/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_reissue_action_stops_the_old_pin_and_makes_a_one_page_batch(client, city_staff, programme):
    wallet = factories.wallet(programme, pin="246810")
    factories.staff_login(client, city_staff)
    response = client.post(
        "/admin/wallets/wallet/", {"action": "reissue_notices", "_selected_action": [wallet.pk]}
    )
    batch = NoticeBatch.objects.get()
    assert response["Location"] == f"/admin/wallets/noticebatch/{batch.pk}/change/"
    assert (batch.kind, batch.pages_total, batch.wallet_ids) == ("reissue", 1, [wallet.pk])
    with pytest.raises(SignInFailed):
        payment_services.resident_sign_in(
            ticket_number=wallet.ticket_number, pin="246810", client_address="192.0.2.9"
        )
    run_worker()
    batch.refresh_from_db()
    assert batch.status == "done" and pdf_pages(batch.pdf.read()) == 1
    assert AuditLog.objects.filter(action="wallets.wallet.notice_reissued").count() == 1


@pytest.mark.django_db
def test_tickets_of_two_programmes_make_no_batch(client, city_staff, programme):
    wallets = [factories.wallet(programme), factories.wallet(factories.programme())]
    factories.staff_login(client, city_staff)
    response = client.post(
        "/admin/wallets/wallet/",
        {"action": "print_notices", "_selected_action": [w.pk for w in wallets]},
        follow=True,
    )
    assert "同じ事業の電子チケットを選んでください" in response.content.decode()
    assert not NoticeBatch.objects.exists()


@pytest.mark.django_db
def test_files_of_an_unfinished_batch_or_for_staff_without_rights_are_refused(
    client, programme, city_staff
):
    wallet = factories.wallet(programme)
    batch = NoticeBatch.objects.create(programme=programme, wallet_ids=[wallet.pk], pages_total=1)
    factories.staff_login(client, city_staff)
    assert client.get(f"/admin/wallets/noticebatch/{batch.pk}/file/pdf/").status_code == 404
    from core.roles import AUDIT

    viewer = factories.user(is_staff=True)
    factories.staff_login(client, viewer, role=AUDIT)  # 監査 may look, not download PINs
    assert client.get(f"/admin/wallets/noticebatch/{batch.pk}/file/pdf/").status_code == 403


@pytest.mark.django_db
def test_files_are_deleted_when_printing_is_done(client, city_staff, programme):
    from wallets import services

    wallet = factories.wallet(programme)
    batch = services.notice_batch_create(
        programme=programme, actor=city_staff, wallet_ids=[wallet.pk], enqueue=False
    )
    batch = services.notice_batch_write(batch)
    path = Path(batch.pdf.path)
    factories.staff_login(client, city_staff)
    client.post(
        "/admin/wallets/noticebatch/", {"action": "delete_files", "_selected_action": [batch.pk]}
    )
    batch.refresh_from_db()
    assert (batch.pdf.name, batch.csv.name) == ("", "")
    assert not path.exists()
    assert client.get(f"/admin/wallets/noticebatch/{batch.pk}/file/pdf/").status_code == 404
    assert AuditLog.objects.filter(action="wallets.notice_batch.files_deleted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_batch_is_written_again_from_admin(client, city_staff, programme):
    wallet = factories.wallet(programme)
    failed = NoticeBatch.objects.create(
        programme=programme, wallet_ids=[wallet.pk], pages_total=1, status="failed", error="x"
    )
    factories.staff_login(client, city_staff)
    client.post(
        "/admin/wallets/noticebatch/", {"action": "write_again", "_selected_action": [failed.pk]}
    )
    run_worker()
    failed.refresh_from_db()
    assert (failed.status, failed.error, failed.pages_done) == ("done", "", 1)
    assert AuditLog.objects.filter(action="wallets.notice_batch.retried").count() == 1
