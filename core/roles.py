"""City staff's roles: Django groups made by core's migration 0003 (docs/security.md).

Least privilege: each role gets the model and custom permissions its work needs, nothing to
delete; staff accounts, groups and devices are managed by superusers only.
"""

PROGRAMME = "事業担当"  # programmes, residents, wallets, grants, notices
MERCHANTS = "加盟店担当"  # companies, stores, terminals, merchant users, POS keys
SETTLEMENT = "精算担当"  # settlement runs, payouts, approvals, transfer files, late cancellations
AUDIT = "監査"  # view everything, change nothing

ROLES = [PROGRAMME, MERCHANTS, SETTLEMENT, AUDIT]
