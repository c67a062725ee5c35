"""Keep merchants_dailysummary exact from the database itself: any payment written or cancelled,
by whatever code path, moves the summary in the same transaction. The business day is Tokyo's."""

from django.db import migrations

SQL = r"""
CREATE FUNCTION merchants_summary_add(p_company bigint, p_store bigint, p_at timestamptz,
                                      p_value_type bigint, p_count bigint, p_amount bigint)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO merchants_dailysummary (company_id, store_id, day, value_type_id, count, amount)
    VALUES (p_company, p_store, (p_at AT TIME ZONE 'Asia/Tokyo')::date, p_value_type,
            p_count, p_amount)
    ON CONFLICT (store_id, day, value_type_id) DO UPDATE
    SET count = merchants_dailysummary.count + EXCLUDED.count,
        amount = merchants_dailysummary.amount + EXCLUDED.amount;
$$;

-- At commit (deferred), so the summary rows are locked only while committing: a payment locks
-- its merchant's payable account last, and a cancellation locks it early; taking the summary
-- row at commit in both keeps one lock order (no deadlock) and the hot row free meanwhile.
-- The insert event counts the payment and its splits as they stand at commit; a status change
-- moves both again. Splits are written with their payment (wallets/ledger.py), never later.
CREATE FUNCTION merchants_summary_payment() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign integer := 0;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'completed' THEN sign := 1; END IF;
    ELSIF OLD.status IS DISTINCT FROM NEW.status THEN
        IF NEW.status = 'completed' THEN sign := 1;
        ELSIF OLD.status = 'completed' THEN sign := -1; END IF;
    END IF;
    IF sign <> 0 THEN
        PERFORM merchants_summary_add(NEW.company_id, NEW.store_id, NEW.created_at, NULL,
                                      sign, sign * NEW.amount);
        PERFORM merchants_summary_add(NEW.company_id, NEW.store_id, NEW.created_at,
                                      s.value_type_id, sign, sign * s.amount)
        FROM payments_paymentsplit s WHERE s.payment_id = NEW.id ORDER BY s.value_type_id;
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER merchants_summary_payment
AFTER INSERT OR UPDATE OF status ON payments_payment
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION merchants_summary_payment();

"""

# Also used by scripts/bench_merchant_admin.py after a bulk load with the trigger off.
REBUILD = r"""
-- Rebuild from what is already there (a no-op on a fresh database).
INSERT INTO merchants_dailysummary (company_id, store_id, day, value_type_id, count, amount)
SELECT company_id, store_id, (created_at AT TIME ZONE 'Asia/Tokyo')::date, NULL, count(*), sum(amount)
FROM payments_payment WHERE status = 'completed' GROUP BY 1, 2, 3
UNION ALL
SELECT p.company_id, p.store_id, (p.created_at AT TIME ZONE 'Asia/Tokyo')::date, s.value_type_id,
       count(*), sum(s.amount)
FROM payments_payment p JOIN payments_paymentsplit s ON s.payment_id = p.id
WHERE p.status = 'completed' GROUP BY 1, 2, 3, 4;
"""

REVERSE = r"""
DROP TRIGGER IF EXISTS merchants_summary_payment ON payments_payment;
DROP FUNCTION IF EXISTS merchants_summary_payment();
DROP FUNCTION IF EXISTS merchants_summary_add(bigint, bigint, timestamptz, bigint, bigint, bigint);
DELETE FROM merchants_dailysummary;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0003_summary_and_exports"),
        ("payments", "0001_initial"),
    ]

    operations = [migrations.RunSQL(SQL + REBUILD, REVERSE)]
