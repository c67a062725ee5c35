"""The payment's hand-written SQL: one statement writes entry, payment, splits and postings.

Names come from the models' `_meta`; the entry part is the ledger's own (`wallets.sql`).
"""

from merchants.models import Store, Terminal
from payments.models import ApiKey, CpmCode, Payment, PaymentSplit
from wallets.models import ValueType
from wallets.sql import ENTRY_CTES

PAYMENT, SPLIT, CPM_CODE = (m._meta.db_table for m in (Payment, PaymentSplit, CpmCode))

# Data-modifying CTEs all run; the balance trigger on postings fires once they are written.
PAYMENT_INSERT = f"""
WITH {ENTRY_CTES}, payment AS (
    INSERT INTO {PAYMENT} (
        number, programme_id, wallet_id, company_id, store_id, terminal_id, amount, mode, status,
        created_at, entry_id, idempotency_key, cancel_memo)
    SELECT %(number)s, %(programme)s, %(wallet)s, %(company)s, %(store)s, %(terminal)s,
        %(amount)s, %(mode)s, %(status)s, %(now)s, entry.id, %(payment_key)s, ''
    FROM entry
    RETURNING id
), splits AS (
    INSERT INTO {SPLIT} (payment_id, value_type_id, amount)
    SELECT payment.id, s.value_type_id, s.amount
    FROM payment, unnest(%(split_types)s::bigint[], %(split_amounts)s::bigint[])
        AS s(value_type_id, amount)
)
SELECT payment.id, entry.id FROM payment, entry
"""

PAYMENT_FOR_KEY = f"SELECT id FROM {PAYMENT} WHERE idempotency_key = %s"

# A payment of a programme holds this lock shared (taken with its wallet lock); a settlement
# close takes it exclusively.
PAYMENTS_IN_FLIGHT_LOCK = 0x70617973  # "pays"
PAYMENTS_IN_FLIGHT_WAIT = "SELECT pg_advisory_xact_lock(%s, %s)"

# Every API call starts here: the active terminal of an unrevoked key, with its active store.
TERMINAL_FOR_API_KEY = (
    "SELECT "
    + ", ".join(
        [f"t.{f.column}" for f in Terminal._meta.concrete_fields]
        + [f"s.{f.column}" for f in Store._meta.concrete_fields]
    )
    + f" FROM {ApiKey._meta.db_table} k"
    f" JOIN {Terminal._meta.db_table} t ON t.id = k.terminal_id"
    f" JOIN {Store._meta.db_table} s ON s.id = t.store_id"
    " WHERE k.key_hash = %s AND k.revoked_at IS NULL AND t.is_active AND s.is_active"
)

# On the POS API's hot path as plain SQL: with these three as ORM queries, Django's CPU per
# payment rose from about 8.3 to 13 ms in scripts/bench_pos_api.py.
CPM_CODE_LOCK = (
    f"SELECT id, wallet_id, payment_id, expires_at FROM {CPM_CODE} WHERE nonce = %s FOR UPDATE"
)
# Links the code to its payment unless the payment already has a code: a replay of the key
# made with another code is not the same request.
CPM_CODE_CONSUME = (
    f"UPDATE {CPM_CODE} SET payment_id = %(payment)s WHERE id = %(code)s"
    f" AND NOT EXISTS (SELECT 1 FROM {CPM_CODE} WHERE payment_id = %(payment)s)"
)
# (value type code, amount) of a payment, in the order its value was drawn.
PAYMENT_SPLITS = (
    f"SELECT v.code, s.amount FROM {SPLIT} s JOIN {ValueType._meta.db_table} v"
    " ON v.id = s.value_type_id WHERE s.payment_id = %s ORDER BY s.id"
)
