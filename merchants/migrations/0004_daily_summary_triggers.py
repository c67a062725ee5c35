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

-- A completed payment counts once on the whole-payment row (value type null).
CREATE FUNCTION merchants_summary_payment() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign integer := 0;
    rec record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'completed' THEN sign := 1; END IF;
        rec := NEW;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.status = 'completed' THEN sign := -1; END IF;
        rec := OLD;
    ELSIF OLD.status IS DISTINCT FROM NEW.status THEN
        IF NEW.status = 'completed' THEN sign := 1;
        ELSIF OLD.status = 'completed' THEN sign := -1; END IF;
        rec := NEW;
    END IF;
    IF sign <> 0 THEN
        PERFORM merchants_summary_add(rec.company_id, rec.store_id, rec.created_at, NULL,
                                      sign, sign * rec.amount);
        -- On a status change the splits already exist: move their value-type rows too.
        IF TG_OP = 'UPDATE' THEN
            PERFORM merchants_summary_add(rec.company_id, rec.store_id, rec.created_at,
                                          s.value_type_id, sign, sign * s.amount)
            FROM payments_paymentsplit s WHERE s.payment_id = rec.id;
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- A split counts on its value type's row while its payment is completed.
CREATE FUNCTION merchants_summary_split() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sign integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
    s record := CASE WHEN TG_OP = 'INSERT' THEN NEW ELSE OLD END;
    p record;
BEGIN
    SELECT company_id, store_id, created_at, status INTO p
    FROM payments_payment WHERE id = s.payment_id;
    IF FOUND AND p.status = 'completed' THEN
        PERFORM merchants_summary_add(p.company_id, p.store_id, p.created_at, s.value_type_id,
                                      sign, sign * s.amount);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER merchants_summary_payment
AFTER INSERT OR DELETE OR UPDATE OF status ON payments_payment
FOR EACH ROW EXECUTE FUNCTION merchants_summary_payment();

CREATE TRIGGER merchants_summary_split
AFTER INSERT OR DELETE ON payments_paymentsplit
FOR EACH ROW EXECUTE FUNCTION merchants_summary_split();

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
DROP TRIGGER IF EXISTS merchants_summary_split ON payments_paymentsplit;
DROP TRIGGER IF EXISTS merchants_summary_payment ON payments_payment;
DROP FUNCTION IF EXISTS merchants_summary_split();
DROP FUNCTION IF EXISTS merchants_summary_payment();
DROP FUNCTION IF EXISTS merchants_summary_add(bigint, bigint, timestamptz, bigint, bigint, bigint);
DELETE FROM merchants_dailysummary;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0003_summary_and_exports"),
        ("payments", "0001_initial"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
