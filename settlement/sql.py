"""The settlement close's set-based SQL: one pass over a period's payments, however many.

Table names come from the models' `_meta` and values from their choices.
"""

from payments.models import Payment
from settlement.models import Payout, PayoutLine

PAYMENT, PAYOUT, PAYOUT_LINE = (m._meta.db_table for m in (Payment, Payout, PayoutLine))

CLAIMS_TABLE = """
CREATE TEMP TABLE settlement_claims (
    payment_id bigint, company_id bigint, kind varchar(10), amount bigint
) ON COMMIT DROP
"""

# One statement, so one snapshot: payments, cancellations and what earlier payouts accounted for
# are read at the same instant. Every company with anything to settle gets a row: payments in
# the period, or cancellations no payout has accounted for yet. Late ones (their payment in an
# earlier, closed period) are absorbed oldest first while they fit in gross − cancelled; the
# rest stay pending and are carried forward. The cancellations this payout accounts for are
# kept in settlement_claims for LINES.
FREEZE = f"""
WITH gross AS (
    SELECT company_id, count(*) AS n, sum(amount)::bigint AS total
    FROM {PAYMENT}
    WHERE programme_id = %(programme)s AND created_at >= %(start)s AND created_at < %(end)s
    GROUP BY company_id
), unclaimed AS (
    SELECT p.id, p.company_id, p.amount, p.created_at, p.created_at >= %(start)s AS in_period
    FROM {PAYMENT} p
    WHERE p.programme_id = %(programme)s AND p.status = '{Payment.Status.CANCELLED}' AND p.created_at < %(end)s
      AND NOT EXISTS (SELECT 1 FROM {PAYOUT_LINE} l WHERE l.payment_id = p.id)
), companies AS (
    SELECT company_id, coalesce(g.n, 0) AS n, coalesce(g.total, 0) AS gross,
           count(u.id) FILTER (WHERE u.in_period) AS cancelled_n,
           coalesce(sum(u.amount) FILTER (WHERE u.in_period), 0)::bigint AS cancelled
    FROM gross g FULL JOIN unclaimed u USING (company_id)
    GROUP BY company_id, g.n, g.total
), claims AS (
    SELECT u.id AS payment_id, u.company_id, u.amount,
           CASE WHEN u.in_period THEN '{PayoutLine.Kind.CANCELLED}'
                WHEN sum(u.amount) FILTER (WHERE NOT u.in_period) OVER (
                    PARTITION BY u.company_id ORDER BY u.created_at, u.id
                ) <= c.gross - c.cancelled THEN '{PayoutLine.Kind.LATE}'
                ELSE 'pending' END AS kind
    FROM unclaimed u JOIN companies c USING (company_id)
), kept AS (
    INSERT INTO settlement_claims (payment_id, company_id, kind, amount)
    SELECT payment_id, company_id, kind, amount FROM claims WHERE kind <> 'pending'
)
SELECT c.company_id, c.n, c.gross, c.cancelled_n, c.cancelled,
       count(l.payment_id) FILTER (WHERE l.kind = '{PayoutLine.Kind.LATE}'),
       coalesce(sum(l.amount) FILTER (WHERE l.kind = '{PayoutLine.Kind.LATE}'), 0)::bigint,
       coalesce(sum(l.amount) FILTER (WHERE l.kind = 'pending'), 0)::bigint
FROM companies c LEFT JOIN claims l USING (company_id)
GROUP BY c.company_id, c.n, c.gross, c.cancelled_n, c.cancelled
ORDER BY c.company_id
"""

LINES = f"""
INSERT INTO {PAYOUT_LINE} (payout_id, payment_id, kind, amount)
SELECT o.id, c.payment_id, c.kind, c.amount
FROM settlement_claims c JOIN {PAYOUT} o ON o.company_id = c.company_id
WHERE o.run_id = %(run)s
"""
