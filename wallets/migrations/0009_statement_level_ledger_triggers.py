"""The ledger's posting triggers once per statement instead of once per posting row.

A payment's postings, a grant's, or the thousands of a bulk grant are one INSERT each. The
balances now move in one UPDATE per statement (accounts locked in id order first, the lock
order), and the balanced-entry check runs once per statement over every entry it touched:
each entry's postings, those already there included, must sum to zero when the statement ends.
That is stricter than the check at commit it replaces (an entry is balanced after every
statement, not only at commit) and catches the same forgeries whoever writes; the rules of
migration 0002 on updates, deletes and direct balance changes are unchanged.
"""

from django.db import migrations

SQL = r"""
DROP TRIGGER posting_entry_balanced ON wallets_posting;
DROP FUNCTION ledger_entry_balanced();
DROP TRIGGER posting_apply_to_balance ON wallets_posting;
DROP FUNCTION ledger_apply_posting();

CREATE FUNCTION ledger_entries_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT p.entry_id, sum(p.amount) AS total INTO bad
    FROM wallets_posting p
    WHERE p.entry_id IN (SELECT DISTINCT entry_id FROM new_postings)
    GROUP BY p.entry_id
    HAVING sum(p.amount) <> 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % is unbalanced by % yen', bad.entry_id, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER posting_entries_balanced
    AFTER INSERT ON wallets_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_balanced();

-- Only this trigger (nested, so trigger depth 2 in the guard) may move a balance.
CREATE FUNCTION ledger_apply_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM wallets_account
    WHERE id IN (SELECT account_id FROM new_postings)
    ORDER BY id
    FOR UPDATE;
    UPDATE wallets_account a SET balance = a.balance + d.amount
    FROM (SELECT account_id, sum(amount) AS amount FROM new_postings GROUP BY account_id) d
    WHERE a.id = d.account_id;
    RETURN NULL;
END $$;

CREATE TRIGGER posting_apply_to_balances
    AFTER INSERT ON wallets_posting
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_apply_postings();
"""

REVERSE_SQL = r"""
DROP TRIGGER posting_apply_to_balances ON wallets_posting;
DROP FUNCTION ledger_apply_postings();
DROP TRIGGER posting_entries_balanced ON wallets_posting;
DROP FUNCTION ledger_entries_balanced();

CREATE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO total FROM wallets_posting WHERE entry_id = NEW.entry_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'journal entry % is unbalanced by % yen', NEW.entry_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER posting_entry_balanced
    AFTER INSERT ON wallets_posting
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced();

CREATE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE wallets_account SET balance = balance + NEW.amount WHERE id = NEW.account_id;
    RETURN NULL;
END $$;

CREATE TRIGGER posting_apply_to_balance
    AFTER INSERT ON wallets_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_apply_posting();
"""


class Migration(migrations.Migration):
    dependencies = [("wallets", "0008_notice_batches")]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
