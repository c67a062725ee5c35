import re
from unittest import mock

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.checkdigit import damm_digit
from core.models import AuditLog, RateLimit
from payments import services
from payments.access import RESIDENT_SESSION_KEY
from tests import factories
from wallets.hashers import PinHasher
from wallets.models import pin_failure_keys

LOGIN = "/login/"

# A well-formed number (its check digit is right) that no ticket has.
UNKNOWN_TICKET = "99999999999" + damm_digit("99999999999")


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


def failures(ticket):
    """(recent, total) wrong PINs counted for a ticket number."""
    counts = dict(RateLimit.objects.values_list("key", "count"))
    return tuple(counts.get(key, 0) for key in pin_failure_keys(ticket))


def test_wrong_pin_says_so_in_japanese_and_signs_nobody_in(client, wallet):
    response = sign_in(client, wallet.ticket_number, "9999")
    assert "チケット番号または暗証番号が正しくありません" in response.content.decode()
    assert RESIDENT_SESSION_KEY not in client.session
    assert failures(wallet.ticket_number) == (1, 1)


def test_five_wrong_pins_lock_the_ticket_and_say_how_to_get_a_new_pin(client, wallet):
    for _ in range(4):
        sign_in(client, wallet.ticket_number, "0000")
    response = sign_in(client, wallet.ticket_number, "0000")
    assert "15分ほど待って" in response.content.decode()
    assert "市の窓口" in response.content.decode()
    # Even the right PIN is refused while locked, and the refusal is not counted.
    response = sign_in(client, wallet.ticket_number, "1234")
    assert "15分ほど待って" in response.content.decode()
    assert RESIDENT_SESSION_KEY not in client.session
    assert failures(wallet.ticket_number) == (5, 5)


def pass_lock_period(ticket):
    recent_key, _total = pin_failure_keys(ticket)
    RateLimit.objects.filter(key=recent_key).update(window_start=timezone.now() - services.PIN_LOCK)


def test_failures_add_up_across_lock_periods_until_city_staff_lift_the_lock(client, wallet):
    """Before: 5 guesses every 15 minutes, 480 a day. Now 10 in all, then only city staff unlock."""
    addresses = iter(f"198.51.100.{i}" for i in range(1, 100))
    for _ in range(services.PIN_MAX_FAILURES):
        sign_in(client, wallet.ticket_number, "0000", address=next(addresses))
    pass_lock_period(wallet.ticket_number)
    for _ in range(services.PIN_MAX_TOTAL_FAILURES - services.PIN_MAX_FAILURES - 1):
        sign_in(client, wallet.ticket_number, "0000", address=next(addresses))
    response = sign_in(client, wallet.ticket_number, "0000", address=next(addresses))
    assert "ロックされました" in response.content.decode()
    assert failures(wallet.ticket_number) == (5, 10)
    # Days later the lock holds, also for the right PIN from a fresh address.
    pass_lock_period(wallet.ticket_number)
    response = sign_in(client, wallet.ticket_number, "1234", address=next(addresses))
    assert "ロックされました" in response.content.decode()
    assert RESIDENT_SESSION_KEY not in client.session


def test_the_right_pin_clears_the_count(client, wallet):
    for _ in range(3):
        sign_in(client, wallet.ticket_number, "0000")
    sign_in(client, wallet.ticket_number, "1234")
    assert failures(wallet.ticket_number) == (0, 0)
    assert client.session[RESIDENT_SESSION_KEY] == wallet.pk


def test_city_staff_lift_the_lock_in_django_admin_and_it_is_audited(client, wallet, city_staff):
    for i in range(services.PIN_MAX_TOTAL_FAILURES):
        pass_lock_period(wallet.ticket_number)
        sign_in(client, wallet.ticket_number, "0000", address=f"198.51.100.{i}")
    staff = Client()
    factories.staff_login(staff, city_staff)
    response = staff.post(
        reverse("admin:wallets_wallet_changelist"),
        {"action": "unlock_pin", "_selected_action": [wallet.pk]},
    )
    assert response.status_code == 302
    assert failures(wallet.ticket_number) == (0, 0)
    log = AuditLog.objects.get(action="wallets.wallet.pin_unlocked")
    assert (log.actor, log.object_id) == (city_staff, str(wallet.pk))
    sign_in(client, wallet.ticket_number, "1234", address="198.51.100.99")
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


def answers(ticket, pin, attempts):
    """Status and error message of each attempt, each from a fresh client and address."""
    out = []
    for i in range(attempts):
        response = sign_in(Client(), ticket, pin, address=f"192.0.2.{i}")
        error = re.search(r'<ul class="errorlist nonfield">.*?</ul>', response.text, re.S)
        out.append((response.status_code, error.group(0)))
    return out


def test_unknown_tickets_answer_exactly_as_real_ones_also_when_locked(wallet):
    """Counted by ticket number, so an unknown number also "locks" after the same failures."""
    attempts = services.PIN_MAX_TOTAL_FAILURES + 1
    real = answers(wallet.ticket_number, "0000", attempts)
    unknown = answers(UNKNOWN_TICKET, "0000", attempts)
    assert real == unknown
    assert "ロックされました" in real[-1][1]


def test_the_pin_is_hashed_once_for_unknown_and_real_tickets(client, wallet):
    """Hashing only for real tickets made them answer 393 ms later (issue 16)."""
    verify = PinHasher.verify
    for ticket in (wallet.ticket_number, UNKNOWN_TICKET):
        with mock.patch.object(PinHasher, "verify", autospec=True, side_effect=verify) as hashed:
            sign_in(client, ticket, "0000")
        assert hashed.call_count == 1


def test_existing_four_digit_pins_and_eight_digit_pins_sign_in(client, programme):
    for pin in ("1234", "12345678"):
        wallet = factories.wallet(programme, pin=pin)
        sign_in(client, wallet.ticket_number, pin)
        assert client.session[RESIDENT_SESSION_KEY] == wallet.pk


def test_a_mistyped_ticket_number_is_turned_away_before_any_lookup(
    client, wallet, django_assert_max_num_queries
):
    """One wrong digit or two swapped neighbours break the check digit: nothing is looked up,
    hashed or counted, and the resident is told to check the number on the notice."""
    number = wallet.ticket_number
    wrong_digit = number[:-3] + str((int(number[-3]) + 1) % 10) + number[-2:]
    swapped = number[:4] + number[5] + number[4] + number[6:]
    typos = [wrong_digit, "12345"] + ([swapped] if swapped != number else [])
    for typo in typos:
        with django_assert_max_num_queries(3):  # the session only; no wallet, no counter
            response = sign_in(client, typo, "1234")
        assert "交付通知書の12桁の番号をお確かめください" in response.text
    assert not RateLimit.objects.filter(key__contains=wrong_digit).exists()
    # Full-width digits and the printed hyphens are read as the number they are.
    fullwidth = "-".join(number[i : i + 4] for i in (0, 4, 8)).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    sign_in(client, fullwidth, "1234")
    assert client.session[RESIDENT_SESSION_KEY] == wallet.pk
