"""A payment in one round trip: `payment_make` does in one call what payments.services did in a
dozen statements (docs/performance.md). The ledger's triggers and constraints still check what
it writes, as they check every writer.

It takes the payments-in-flight lock (shared) and the wallet's row lock, answers a retry of its
idempotency key with the first payment (or `idempotency_conflict` when the request differs),
checks store and programme, draws from the value types (most restricted first, then soonest
expiring), and writes entry, postings, payment and splits, consuming the CPM code when given one.
Domain failures come back as `outcome` (the DomainError codes), with nothing written.
"""

from django.db import migrations

SQL = r"""
CREATE TYPE payment_made AS (
    outcome text,            -- 'created', 'replayed' or a DomainError code
    available bigint,        -- insufficient_balance: what this store accepts
    payment_id bigint,
    entry_id bigint,
    number text,
    wallet_id bigint,
    programme_id bigint,
    cancel_window interval,
    created_at timestamptz,
    status text,
    cancelled_at timestamptz,
    split_codes text[],      -- value type codes, in the order they were drawn
    split_amounts bigint[]
);

-- What a retry is answered with: the first payment when it was the same request, else a
-- conflict. A resident code's retry is the same code; any other, the same wallet.
CREATE FUNCTION payment_replayed(p payments_payment, p_wallet bigint, p_nonce text,
                                 p_store bigint, p_terminal bigint, p_amount bigint, p_mode text)
RETURNS payment_made LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN same THEN 'replayed' ELSE 'idempotency_conflict' END, NULL::bigint,
           p.id, p.entry_id, p.number::text, p.wallet_id, p.programme_id, g.cancel_window,
           p.created_at, p.status::text, p.cancelled_at,
           ARRAY(SELECT v.code::text FROM payments_paymentsplit s
                 JOIN wallets_valuetype v ON v.id = s.value_type_id
                 WHERE s.payment_id = p.id ORDER BY s.id),
           ARRAY(SELECT s.amount FROM payments_paymentsplit s WHERE s.payment_id = p.id
                 ORDER BY s.id)
    FROM wallets_programme g,
         LATERAL (SELECT p.store_id = p_store AND p.terminal_id IS NOT DISTINCT FROM p_terminal
                         AND p.amount = p_amount AND p.mode = p_mode
                         AND CASE WHEN p_nonce IS NULL THEN p.wallet_id = p_wallet
                             ELSE EXISTS (SELECT 1 FROM payments_cpmcode c
                                          WHERE c.payment_id = p.id AND c.nonce = p_nonce)
                             END AS same) s
    WHERE g.id = p.programme_id
$$;

CREATE FUNCTION payment_make(
    p_wallet bigint,        -- NULL with a resident code: the code names the wallet
    p_nonce text,           -- the resident code's nonce (CPM, POS), else NULL
    p_store bigint,
    p_terminal bigint,
    p_amount bigint,
    p_mode text,
    p_key text,
    p_number text,
    p_actor bigint,
    p_now timestamptz,      -- NULL: the clock once the locks are held
    p_time_zone text,       -- the business day's zone (settings.TIME_ZONE)
    p_lock_class integer    -- payments.sql.PAYMENTS_IN_FLIGHT_LOCK
) RETURNS payment_made LANGUAGE plpgsql AS $$
DECLARE
    v_payment payments_payment;
    v_code payments_cpmcode;
    v_store merchants_store;
    v_programme wallets_programme;
    v_wallet bigint := p_wallet;
    v_wallet_programme bigint;
    v_now timestamptz;
    v_today date;
    v_pot record;
    v_usable boolean := false;
    v_other_value boolean := false;
    v_available bigint := 0;
    v_remaining bigint := p_amount;
    v_take bigint;
    v_accounts bigint[] := '{}';
    v_amounts bigint[] := '{}';
    v_types bigint[] := '{}';
    v_codes text[] := '{}';
    v_taken bigint[] := '{}';
    v_payable bigint;
    v_entry bigint;
BEGIN
    IF p_nonce IS NOT NULL THEN
        -- A retry answers with the first result, even once its code has expired or been
        -- purged; one still in flight holds the code's lock, and is seen through the code.
        SELECT * INTO v_payment FROM payments_payment WHERE idempotency_key = p_key;
        IF FOUND THEN
            RETURN payment_replayed(v_payment, p_wallet, p_nonce, p_store, p_terminal,
                                    p_amount, p_mode);
        END IF;
        SELECT * INTO v_code FROM payments_cpmcode WHERE nonce = p_nonce FOR UPDATE;
        IF NOT FOUND THEN
            RETURN ROW('code_invalid', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL)::payment_made;
        END IF;
        IF v_code.payment_id IS NOT NULL THEN
            -- A concurrent retry with the same key got the code first.
            SELECT * INTO v_payment FROM payments_payment WHERE id = v_code.payment_id;
            IF v_payment.idempotency_key = p_key THEN
                RETURN payment_replayed(v_payment, p_wallet, p_nonce, p_store, p_terminal,
                                        p_amount, p_mode);
            END IF;
            RETURN ROW('code_used', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL)::payment_made;
        END IF;
        IF v_code.expires_at <= coalesce(p_now, clock_timestamp()) THEN
            RETURN ROW('code_expired', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL)::payment_made;
        END IF;
        v_wallet := v_code.wallet_id;
    END IF;

    SELECT * INTO v_store FROM merchants_store WHERE id = p_store;
    IF FOUND THEN
        SELECT * INTO v_programme FROM wallets_programme WHERE id = v_store.programme_id;
    ELSE
        RETURN ROW('store_not_eligible', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL)::payment_made;
    END IF;
    -- The payments-in-flight lock before any row lock (docs/settlement.md), so a waiting
    -- settlement close and a payment never wait for each other in a cycle.
    PERFORM pg_advisory_xact_lock_shared(p_lock_class, v_store.programme_id::integer);
    SELECT programme_id INTO v_wallet_programme FROM wallets_wallet WHERE id = v_wallet
        FOR UPDATE;
    IF NOT FOUND THEN
        RETURN ROW('wallet_missing', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL)::payment_made;
    END IF;
    IF p_nonce IS NULL THEN
        -- Retries of one wallet queue on its lock, so this read sees the first one's payment.
        SELECT * INTO v_payment FROM payments_payment WHERE idempotency_key = p_key;
        IF FOUND THEN
            RETURN payment_replayed(v_payment, p_wallet, p_nonce, p_store, p_terminal,
                                    p_amount, p_mode);
        END IF;
    END IF;

    v_now := coalesce(p_now, clock_timestamp());
    v_today := (v_now AT TIME ZONE p_time_zone)::date;
    IF v_wallet_programme <> v_store.programme_id OR NOT v_store.is_active THEN
        RETURN ROW('store_not_eligible', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL)::payment_made;
    END IF;
    IF NOT v_today BETWEEN v_programme.starts_on AND v_programme.ends_on THEN
        RETURN ROW('programme_not_active', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL)::payment_made;
    END IF;

    -- The wallet's value accounts, locked in id order; unexpired ones drawn in the split order.
    FOR v_pot IN
        SELECT * FROM (
            SELECT a.id, a.balance, v.id AS value_type, v.code, v.small_local_only, v.expires_on
            FROM wallets_account a JOIN wallets_valuetype v ON v.id = a.value_type_id
            WHERE a.wallet_id = v_wallet AND a.kind = 'wallet'
            ORDER BY a.id FOR UPDATE OF a
        ) pots
        WHERE pots.expires_on >= v_today
        ORDER BY NOT pots.small_local_only, pots.expires_on, pots.id
    LOOP
        IF v_store.is_small_local OR NOT v_pot.small_local_only THEN
            v_usable := true;
            v_available := v_available + v_pot.balance;
            v_take := least(v_pot.balance, v_remaining);
            IF v_take > 0 THEN
                v_accounts := v_accounts || v_pot.id;
                v_amounts := v_amounts || -v_take;
                v_types := v_types || v_pot.value_type;
                v_codes := v_codes || v_pot.code::text;
                v_taken := v_taken || v_take;
                v_remaining := v_remaining - v_take;
            END IF;
        ELSIF v_pot.balance > 0 THEN
            v_other_value := true;
        END IF;
    END LOOP;
    IF v_remaining > 0 THEN
        -- Only a wallet whose every unexpired yen is of types this store never takes is
        -- store_not_eligible; otherwise the answer says what this store accepts.
        IF NOT v_usable AND v_other_value THEN
            RETURN ROW('store_not_eligible', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL, NULL)::payment_made;
        END IF;
        RETURN ROW('insufficient_balance', v_available, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL, NULL)::payment_made;
    END IF;

    SELECT id INTO v_payable FROM wallets_account
    WHERE programme_id = v_programme.id AND kind = 'merchant_payable'
        AND company_id = v_store.company_id AND wallet_id IS NULL AND value_type_id IS NULL;
    IF NOT FOUND THEN
        -- A concurrent first payment may create it too: the unique constraint settles it.
        INSERT INTO wallets_account (kind, balance, programme_id, wallet_id, value_type_id,
                                     company_id)
        VALUES ('merchant_payable', 0, v_programme.id, NULL, NULL, v_store.company_id)
        ON CONFLICT DO NOTHING;
        SELECT id INTO STRICT v_payable FROM wallets_account
        WHERE programme_id = v_programme.id AND kind = 'merchant_payable'
            AND company_id = v_store.company_id AND wallet_id IS NULL AND value_type_id IS NULL;
    END IF;

    -- The payment row first, under its key: a first request under the same key for another
    -- wallet (another lock) waits here for that one and is answered as its retry.
    v_entry := nextval('wallets_journalentry_id_seq');
    INSERT INTO payments_payment (
        number, programme_id, wallet_id, company_id, store_id, terminal_id, amount, mode,
        status, created_at, entry_id, idempotency_key, cancel_memo)
    VALUES (p_number, v_programme.id, v_wallet, v_store.company_id, v_store.id, p_terminal,
            p_amount, p_mode, 'completed', v_now, v_entry, p_key, '')
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING * INTO v_payment;
    IF NOT FOUND THEN
        SELECT * INTO STRICT v_payment FROM payments_payment WHERE idempotency_key = p_key;
        RETURN payment_replayed(v_payment, p_wallet, p_nonce, p_store, p_terminal, p_amount,
                                p_mode);
    END IF;
    INSERT INTO wallets_journalentry (id, programme_id, kind, created_by_id, memo, created_at,
                                      idempotency_key, reverses_id)
    VALUES (v_entry, v_programme.id, 'payment', p_actor, '', v_now, NULL, NULL);
    -- In account order, the lock order: the merchant's payable row, shared by all its
    -- customers, is locked by the balance trigger only now, shortly before commit.
    INSERT INTO wallets_posting (entry_id, account_id, amount)
    SELECT v_entry, t.account, t.amount
    FROM unnest(v_accounts || v_payable, v_amounts || p_amount) AS t(account, amount)
    ORDER BY t.account;
    INSERT INTO payments_paymentsplit (payment_id, value_type_id, amount)
    SELECT v_payment.id, t.value_type, t.amount
    FROM unnest(v_types, v_taken) WITH ORDINALITY AS t(value_type, amount, n)
    ORDER BY t.n;
    IF p_nonce IS NOT NULL THEN
        UPDATE payments_cpmcode SET payment_id = v_payment.id WHERE id = v_code.id;
    END IF;
    RETURN ROW('created', NULL, v_payment.id, v_entry, v_payment.number, v_wallet,
               v_programme.id, v_programme.cancel_window, v_now, 'completed', NULL, v_codes,
               v_taken)::payment_made;
END $$;
"""

REVERSE_SQL = """
DROP FUNCTION payment_make(bigint, text, bigint, bigint, bigint, text, text, text, bigint,
                           timestamptz, text, integer);
DROP FUNCTION payment_replayed(payments_payment, bigint, text, bigint, bigint, bigint, text);
DROP TYPE payment_made;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0005_payment_mode_card"),
        ("merchants", "0012_password_history"),
        ("wallets", "0008_notice_batches"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
