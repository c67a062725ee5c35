-- One JSON line of ledger totals, read by backup.sh in the dumped snapshot and by restore.sh in
-- the restored database: the two must be equal.
SELECT json_build_object(
  'payments', (SELECT count(*) FROM payments_payment),
  'payment_yen', (SELECT coalesce(sum(amount), 0) FROM payments_payment),
  'cancelled', (SELECT count(*) FROM payments_payment WHERE status = 'cancelled'),
  'entries', (SELECT count(*) FROM wallets_journalentry),
  'postings', (SELECT count(*) FROM wallets_posting),
  'yen_moved', (SELECT (coalesce(sum(abs(amount)), 0) / 2)::bigint FROM wallets_posting),
  'wallet_balances', (SELECT coalesce(sum(balance), 0) FROM wallets_account WHERE kind = 'wallet'),
  'all_accounts', (SELECT coalesce(sum(balance), 0) FROM wallets_account),
  'last_payment', (SELECT coalesce(max(id), 0) FROM payments_payment)
)::text;
