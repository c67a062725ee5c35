"""The payment's hand-written SQL: one statement writes entry, payment, splits and postings.

Names come from the models' `_meta`; the entry part is the ledger's own (`wallets.sql`).
"""

from merchants.models import Store, Terminal
from payments.models import ApiKey, Payment, PaymentSplit
from wallets.sql import ENTRY_CTES

PAYMENT, SPLIT = Payment._meta.db_table, PaymentSplit._meta.db_table

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

# Every API call starts here: the active terminal of an unrevoked key, with its store.
TERMINAL_FOR_API_KEY = (
    "SELECT "
    + ", ".join(
        [f"t.{f.column}" for f in Terminal._meta.concrete_fields]
        + [f"s.{f.column}" for f in Store._meta.concrete_fields]
    )
    + f" FROM {ApiKey._meta.db_table} k"
    f" JOIN {Terminal._meta.db_table} t ON t.id = k.terminal_id"
    f" JOIN {Store._meta.db_table} s ON s.id = t.store_id"
    " WHERE k.key_hash = %s AND k.revoked_at IS NULL AND t.is_active"
)
