"""The ledger's hand-written SQL: the statements every payment runs, kept to a few round trips.

Table and column names come from the models' `_meta` and values from their choices, so a
renamed field fails loudly here instead of silently in production.
"""

from wallets.models import Account, JournalEntry, Posting, Programme, Wallet


def _table(model) -> str:
    return model._meta.db_table


def _column(model, field: str) -> str:
    return model._meta.get_field(field).column


ENTRY, POSTING, ACCOUNT = _table(JournalEntry), _table(Posting), _table(Account)
WALLET, PROGRAMME = _table(Wallet), _table(Programme)
WALLET_FIELDS = [f.column for f in Wallet._meta.concrete_fields]
PROGRAMME_FIELDS = [f.column for f in Programme._meta.concrete_fields]

# An entry and its postings in one statement; the posting triggers (once per statement) lock
# the accounts in id order and move their balances once every row is written.
POST = f"""
WITH entry AS (
    INSERT INTO {ENTRY} (
        {_column(JournalEntry, "programme")}, kind, {_column(JournalEntry, "created_by")},
        memo, created_at, idempotency_key, {_column(JournalEntry, "reverses")})
    VALUES (%(programme)s, %(kind)s, %(actor)s, %(memo)s, %(now)s, %(key)s, %(reverses)s)
    RETURNING id
), postings AS (
    INSERT INTO {POSTING} ({_column(Posting, "entry")}, {_column(Posting, "account")}, amount)
    SELECT entry.id, p.account_id, p.amount
    FROM entry, unnest(%(accounts)s::bigint[], %(amounts)s::bigint[]) WITH ORDINALITY
        AS p(account_id, amount, n)
    ORDER BY p.n
)
SELECT id FROM entry
"""

LOCK_WALLET = f"""
SELECT {", ".join(f"w.{c}" for c in WALLET_FIELDS)}, {", ".join(f"p.{c}" for c in PROGRAMME_FIELDS)}
FROM {WALLET} w JOIN {PROGRAMME} p ON p.id = w.{_column(Wallet, "programme")}
WHERE w.id = %(wallet)s
FOR UPDATE OF w
"""

_OWNER = ["programme", "wallet", "value_type", "company"]


def account_find(params: dict) -> str:
    """`= value` or `IS NULL` per owner column, so the unique index answers (IS NOT DISTINCT
    FROM would not use it)."""
    return (
        f"SELECT {', '.join(f.column for f in Account._meta.concrete_fields)} FROM {ACCOUNT}"
        f" WHERE {_column(Account, 'programme')} = %(programme)s AND kind = %(kind)s"
        + "".join(
            f" AND {_column(Account, name)} "
            + ("IS NULL" if params[name] is None else f"= %({name})s")
            for name in _OWNER[1:]
        )
    )


# A concurrent first use may insert it too: the unique constraint settles it, and the find
# that follows (a new statement) sees the winner's committed row.
ACCOUNT_CREATE = (
    f"INSERT INTO {ACCOUNT} (kind, balance, {', '.join(_column(Account, n) for n in _OWNER)})"
    f" VALUES (%(kind)s, 0, {', '.join(f'%({n})s' for n in _OWNER)}) ON CONFLICT DO NOTHING"
)
ACCOUNT_FIELDS = [f.attname for f in Account._meta.concrete_fields]

# --- Grants in bulk (ledger.grant_many): one entry per grant, a few statements per thousand ---

_W, _VT = _column(Account, "wallet"), _column(Account, "value_type")

LOCK_WALLETS = f"""
SELECT count(*) FROM (
    SELECT 1 FROM {WALLET} WHERE id = ANY(%(wallets)s::bigint[]) ORDER BY id FOR UPDATE
) locked
"""

WALLET_ACCOUNTS_CREATE = f"""
INSERT INTO {ACCOUNT} (kind, balance, {", ".join(_column(Account, n) for n in _OWNER)})
SELECT DISTINCT '{Account.Kind.WALLET}', 0, %(programme)s, t.wallet, t.value_type, NULL::bigint
FROM unnest(%(wallets)s::bigint[], %(value_types)s::bigint[]) AS t(wallet, value_type)
ORDER BY t.wallet, t.value_type
ON CONFLICT DO NOTHING
"""

# Keys already used are skipped (ON CONFLICT); the caller compares them with what was asked.
# Postings go in account order: issuance and sales first, then wallets, as payments lock them.
GRANT_MANY = f"""
WITH lines AS (
    SELECT * FROM unnest(%(keys)s::text[], %(wallets)s::bigint[], %(value_types)s::bigint[],
                         %(amounts)s::bigint[], %(paids)s::bigint[]) WITH ORDINALITY
        AS l(key, wallet, value_type, amount, paid, n)
), entries AS (
    INSERT INTO {ENTRY} (
        {_column(JournalEntry, "programme")}, kind, {_column(JournalEntry, "created_by")},
        memo, created_at, idempotency_key, {_column(JournalEntry, "reverses")})
    SELECT %(programme)s, '{JournalEntry.Kind.GRANT}', %(actor)s, %(memo)s, %(now)s, l.key, NULL
    FROM lines l ORDER BY l.n
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, idempotency_key
), postings AS (
    INSERT INTO {POSTING} ({_column(Posting, "entry")}, {_column(Posting, "account")}, amount)
    SELECT e.id, p.account, p.amount
    FROM entries e
    JOIN lines l ON l.key = e.idempotency_key
    JOIN {ACCOUNT} a ON a.{_W} = l.wallet AND a.{_VT} = l.value_type
        AND a.kind = '{Account.Kind.WALLET}'
    CROSS JOIN LATERAL (VALUES (a.id, l.amount), (%(sales)s::bigint, -l.paid),
                               (%(issuance)s::bigint, l.paid - l.amount)) AS p(account, amount)
    WHERE p.amount <> 0
    ORDER BY p.account, e.id
)
SELECT idempotency_key FROM entries
"""

GRANTS_UNDER_KEYS = f"""
SELECT e.idempotency_key, a.{_W}, a.{_VT}, p.amount
FROM {ENTRY} e
JOIN {POSTING} p ON p.{_column(Posting, "entry")} = e.id
JOIN {ACCOUNT} a ON a.id = p.{_column(Posting, "account")} AND a.kind = '{Account.Kind.WALLET}'
WHERE e.idempotency_key = ANY(%(keys)s::text[]) AND e.kind = '{JournalEntry.Kind.GRANT}'
"""
