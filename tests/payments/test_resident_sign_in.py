from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from payments import services
from payments.access import RESIDENT_SESSION_KEY
from tests import factories

LOGIN = "/login/"


def sign_in(client, ticket, pin, address="10.0.0.1"):
    return client.post(LOGIN, {"ticket": ticket, "pin": pin}, REMOTE_ADDR=address)


def test_notice_qr_url_opens_the_sign_in_filled_in(client, wallet):
    response = client.get(f"{LOGIN}?ticket={wallet.ticket_number}")
    assert f'value="{wallet.ticket_number}"' in response.content.decode()


def test_sign_in_keeps_the_phone_signed_in_for_months(client, wallet):
    response = sign_in(client, wallet.ticket_number, "1234")
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:home")
    assert client.session[RESIDENT_SESSION_KEY] == wallet.pk
    assert client.session.get_expiry_age() >= 170 * 24 * 3600
    assert client.get("/").status_code == 200


def test_sign_in_goes_back_to_the_page_that_asked(client, wallet):
    response = client.post(
        LOGIN, {"ticket": wallet.ticket_number, "pin": "1234", "next": "/history/"}
    )
    assert response["Location"] == "/history/"
    response = client.post(
        LOGIN, {"ticket": wallet.ticket_number, "pin": "1234", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_resident_pages_need_sign_in(client, wallet):
    response = client.get("/history/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_sign_out(resident):
    response = resident.post("/logout/")
    assert response.status_code == 302
    assert RESIDENT_SESSION_KEY not in resident.session
    assert resident.get("/").status_code == 302


def test_wrong_pin_says_so_in_japanese_and_signs_nobody_in(client, wallet):
    response = sign_in(client, wallet.ticket_number, "9999")
    assert "チケット番号または暗証番号が正しくありません" in response.content.decode()
    assert RESIDENT_SESSION_KEY not in client.session
    wallet.refresh_from_db()
    assert wallet.failed_pin_attempts == 1


def test_five_wrong_pins_lock_the_ticket_with_the_unlock_time(client, wallet):
    for _ in range(4):
        sign_in(client, wallet.ticket_number, "0000")
    response = sign_in(client, wallet.ticket_number, "0000")
    wallet.refresh_from_db()
    assert wallet.is_locked()
    assert wallet.locked_until - timezone.now() > timedelta(minutes=14)
    until = timezone.localtime(wallet.locked_until).strftime("%Y年%m月%d日 %H:%M:%S")
    assert f"{until} から再度ご利用いただけます" in response.content.decode()
    # Even the right PIN is refused while locked.
    response = sign_in(client, wallet.ticket_number, "1234")
    assert "から再度ご利用いただけます" in response.content.decode()
    assert RESIDENT_SESSION_KEY not in client.session


def test_the_lock_ends_and_a_right_pin_clears_the_count(client, wallet):
    wallet.locked_until = timezone.now() - timedelta(seconds=1)
    wallet.failed_pin_attempts = 3
    wallet.save()
    sign_in(client, wallet.ticket_number, "1234")
    wallet.refresh_from_db()
    assert (wallet.failed_pin_attempts, wallet.locked_until) == (0, None)
    assert client.session[RESIDENT_SESSION_KEY] == wallet.pk


def test_one_address_cannot_try_many_tickets(client, programme):
    wallets = [factories.wallet(programme) for _ in range(services.ADDRESS_MAX_FAILURES)]
    for w in wallets:
        sign_in(client, w.ticket_number, "0000", address="203.0.113.9")
    # No ticket got locked (each saw one failure), yet the address is throttled now,
    # even for a ticket and PIN that are right.
    response = sign_in(client, wallets[0].ticket_number, "1234", address="203.0.113.9")
    assert "この端末からの試行回数が多すぎます" in response.content.decode()
    assert RESIDENT_SESSION_KEY not in client.session
    # Another address is not affected.
    sign_in(client, wallets[0].ticket_number, "1234", address="203.0.113.10")
    assert client.session[RESIDENT_SESSION_KEY] == wallets[0].pk


def test_unknown_ticket_looks_like_a_wrong_pin(client, wallet):
    response = sign_in(client, "999999999999", "1234")
    assert "チケット番号または暗証番号が正しくありません" in response.content.decode()
