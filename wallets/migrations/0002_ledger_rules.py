"""PostgreSQL guards the ledger itself, whatever code or person writes to it:

- an entry whose postings do not sum to zero is refused at commit (deferred constraint trigger);
- postings and journal entries cannot be updated or deleted;
- an account's balance changes only through the posting trigger, so it always equals the sum of
  its postings; a new account starts at zero;
- a wallet balance below zero is refused by the CHECK constraint of migration 0001.
"""

from django.db import migrations

SQL = """
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

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only: post a reversing entry instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER posting_append_only
    BEFORE UPDATE OR DELETE ON wallets_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE TRIGGER journalentry_append_only
    BEFORE UPDATE OR DELETE ON wallets_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

CREATE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE wallets_account SET balance = balance + NEW.amount WHERE id = NEW.account_id;
    RETURN NULL;
END $$;

CREATE TRIGGER posting_apply_to_balance
    AFTER INSERT ON wallets_posting
    FOR EACH ROW EXECUTE FUNCTION ledger_apply_posting();

-- Only the posting trigger (nested, so trigger depth 2) may move a balance.
CREATE FUNCTION ledger_guard_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.balance <> 0 THEN
        RAISE EXCEPTION 'a new account starts with a zero balance'
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.balance IS DISTINCT FROM OLD.balance AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'account balances change only by posting entries'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER account_guard_balance
    BEFORE INSERT OR UPDATE ON wallets_account
    FOR EACH ROW EXECUTE FUNCTION ledger_guard_balance();
"""

REVERSE_SQL = """
DROP TRIGGER account_guard_balance ON wallets_account;
DROP FUNCTION ledger_guard_balance();
DROP TRIGGER posting_apply_to_balance ON wallets_posting;
DROP FUNCTION ledger_apply_posting();
DROP TRIGGER journalentry_append_only ON wallets_journalentry;
DROP TRIGGER posting_append_only ON wallets_posting;
DROP FUNCTION ledger_append_only();
DROP TRIGGER posting_entry_balanced ON wallets_posting;
DROP FUNCTION ledger_entry_balanced();
"""


class Migration(migrations.Migration):
    dependencies = [("wallets", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
