"""PostgreSQL itself refuses what breaks the ledger, whatever writes to it: raw SQL here."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from tests import factories
from wallets import ledger
from wallets.models import Account, JournalEntry, Posting

pytestmark = pytest.mark.django_db(transaction=True)


def sql(statement, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def paid(wallet, small_store):
    return factories.payment(wallet, small_store, 1000, key="p")


def test_unbalanced_entry_is_refused_at_commit(programme, wallet):
    account = Account.objects.filter(wallet=wallet).first()
    entries = JournalEntry.objects.count()
    with (
        pytest.raises(IntegrityError, match="unbalanced"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO wallets_journalentry (programme_id, kind, created_at, memo) "
            "VALUES (%s, 'grant', now(), 'forged') RETURNING id",
            [programme.pk],
        )
        (entry_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO wallets_posting (entry_id, account_id, amount) VALUES (%s, %s, 1000000)",
            [entry_id, account.pk],
        )
    assert JournalEntry.objects.count() == entries
    assert Account.objects.get(pk=account.pk).balance == account.balance


def test_postings_cannot_be_updated(paid):
    posting = Posting.objects.filter(entry=paid.entry).first()
    with pytest.raises(DatabaseError, match="append-only"):
        sql("UPDATE wallets_posting SET amount = amount * 2 WHERE id = %s", [posting.pk])
    assert Posting.objects.get(pk=posting.pk).amount == posting.amount


def test_postings_cannot_be_deleted(paid):
    with pytest.raises(DatabaseError, match="append-only"):
        sql("DELETE FROM wallets_posting WHERE entry_id = %s", [paid.entry_id])
    assert paid.entry.postings.count() == 2


def test_journal_entries_cannot_be_changed_or_deleted(paid):
    with pytest.raises(DatabaseError, match="append-only"):
        sql("UPDATE wallets_journalentry SET memo = 'x' WHERE id = %s", [paid.entry_id])
    with pytest.raises(DatabaseError, match="append-only"):
        sql("DELETE FROM wallets_journalentry WHERE id = %s", [paid.entry_id])


def test_balance_cannot_be_set_directly(wallet):
    account = Account.objects.filter(wallet=wallet).first()
    with pytest.raises(DatabaseError, match="only by posting"):
        sql("UPDATE wallets_account SET balance = balance + 100000 WHERE id = %s", [account.pk])
    with pytest.raises(DatabaseError, match="zero balance"):
        sql(
            "INSERT INTO wallets_account (programme_id, kind, balance) VALUES (%s, 'adjustment', 5)",
            [wallet.programme_id],
        )
    assert Account.objects.get(pk=account.pk).balance == account.balance


def test_wallet_balance_cannot_go_negative(programme, wallet):
    account = Account.objects.filter(wallet=wallet, value_type__code="common").get()
    issuance = Account.objects.get(kind=Account.Kind.ISSUANCE)
    with (
        pytest.raises(IntegrityError, match="account_wallet_balance_not_negative"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO wallets_journalentry (programme_id, kind, created_at, memo) "
            "VALUES (%s, 'adjustment', now(), 'overdraw') RETURNING id",
            [programme.pk],
        )
        (entry_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO wallets_posting (entry_id, account_id, amount) VALUES (%s, %s, %s), (%s, %s, %s)",
            [entry_id, account.pk, -5_001, entry_id, issuance.pk, 5_001],
        )
    assert Account.objects.get(pk=account.pk).balance == 5_000


def test_zero_postings_are_refused(paid):
    with pytest.raises(IntegrityError, match="posting_amount_not_zero"):
        sql(
            "INSERT INTO wallets_posting (entry_id, account_id, amount) "
            "SELECT %s, id, 0 FROM wallets_account LIMIT 1",
            [paid.entry_id],
        )


def test_an_entry_key_is_used_once(programme, wallet):
    ledger.grant(
        wallet=wallet,
        value_type=Account.objects.filter(wallet=wallet).first().value_type,
        amount=1,
        idempotency_key="dup",
    )
    with pytest.raises(IntegrityError, match="idempotency_key"):
        sql(
            "INSERT INTO wallets_journalentry (programme_id, kind, created_at, memo, idempotency_key) "
            "VALUES (%s, 'grant', now(), '', 'dup')",
            [programme.pk],
        )


def test_a_payment_key_is_used_once(wallet, small_store, paid):
    second = factories.payment(wallet, small_store, 1, key="q")
    with pytest.raises(IntegrityError, match="idempotency_key"):
        sql("UPDATE payments_payment SET idempotency_key = 'p' WHERE id = %s", [second.pk])


def test_a_posting_added_later_to_an_entry_is_refused(paid):
    """Balanced after every statement: an entry cannot be unbalanced afterwards either."""
    account = Account.objects.filter(kind=Account.Kind.ISSUANCE).get()
    with pytest.raises(IntegrityError, match="unbalanced"):
        sql(
            "INSERT INTO wallets_posting (entry_id, account_id, amount) VALUES (%s, %s, 7)",
            [paid.entry_id, account.pk],
        )
    assert paid.entry.postings.count() == 2
    assert Account.objects.get(pk=account.pk).balance == account.balance


def test_one_statement_moves_each_balance_by_all_its_postings(programme, wallet):
    account = Account.objects.filter(wallet=wallet, value_type__code="common").get()
    issuance = Account.objects.get(kind=Account.Kind.ISSUANCE)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wallets_journalentry (programme_id, kind, created_at, memo) "
            "VALUES (%s, 'adjustment', now(), 'two lines') RETURNING id",
            [programme.pk],
        )
        (entry_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO wallets_posting (entry_id, account_id, amount) "
            "VALUES (%s, %s, 300), (%s, %s, 400), (%s, %s, -700)",
            [entry_id, account.pk, entry_id, account.pk, entry_id, issuance.pk],
        )
    assert Account.objects.get(pk=account.pk).balance == account.balance + 700
    assert Account.objects.get(pk=issuance.pk).balance == issuance.balance - 700
