"""The payments' hand-written SQL. Names come from the models' `_meta`."""

from merchants.models import Store, Terminal
from payments.models import ApiKey

# The payment in one call (payments migration 0006): one round trip, one row back.
PAYMENT_MAKE = """
SELECT * FROM payment_make(
    %(wallet)s, %(nonce)s, %(store)s, %(terminal)s, %(amount)s, %(mode)s, %(key)s, %(number)s,
    %(actor)s, %(now)s, %(time_zone)s, %(lock_class)s)
"""

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
