from django.test import override_settings

from tests import factories
from wallets import services
from wallets.models import Wallet


def test_pin_hash_is_keyed_so_the_database_alone_checks_nothing(programme):
    wallet = factories.wallet(programme, pin="123456")
    assert wallet.pin_hash.startswith("pin_hmac$")
    assert wallet.check_pin("123456") and not wallet.check_pin("123457")
    with override_settings(PIN_HASH_KEY="another-key"):
        assert not wallet.check_pin("123456")


def test_pins_survive_a_secret_key_rotation(programme, settings):
    wallet = factories.wallet(programme, pin="123456")
    settings.SECRET_KEY = "rotated"
    assert wallet.check_pin("123456")


def test_issue_gives_new_pins_and_cards_and_voids_the_old_ones(programme):
    first, second = (
        factories.wallet(programme, pin="111111"),
        factories.wallet(programme, pin="222222"),
    )
    issued = services.wallet_credentials_issue([first, second])
    assert [c.wallet for c in issued] == [first, second]
    for c in issued:
        stored = Wallet.objects.get(pk=c.wallet.pk)
        assert len(c.pin) == 6 and c.pin.isdigit() and stored.check_pin(c.pin)
        assert services.wallet_for_card(c.card_token) == stored
        assert c.card_token not in stored.card_digest
    assert not Wallet.objects.get(pk=first.pk).check_pin("111111")
    again = services.wallet_credentials_issue([first])[0]
    assert services.wallet_for_card(issued[0].card_token) is None
    assert services.wallet_for_card(again.card_token) == first


def test_anything_else_is_no_card(programme):
    wallet = factories.wallet(programme)
    assert services.wallet_for_card(wallet.ticket_number) is None
    assert services.wallet_for_card("CARD-made-up") is None
    assert services.wallet_for_card("CARD-" + "x" * 100) is None
