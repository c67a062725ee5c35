"""City staff's roles: Django groups made by core's migration 0003 (docs/security.md).

Least privilege: each role gets the model and custom permissions its work needs, nothing to
delete; staff accounts, groups and devices are managed by superusers only.
"""

PROGRAMME = "事業担当"  # programmes, residents, wallets, grants, notices
MERCHANTS = "加盟店担当"  # companies, stores, terminals, merchant users, POS keys
SETTLEMENT = "精算担当"  # settlement runs, payouts, approvals, transfer files, late cancellations
AUDIT = "監査"  # view everything, change nothing

ROLES = [PROGRAMME, MERCHANTS, SETTLEMENT, AUDIT]

VIEW_ALL_APPS = ["core", "wallets", "merchants", "payments", "settlement"]

PERMISSIONS = {
    PROGRAMME: [
        "wallets.add_programme",
        "wallets.change_programme",
        "wallets.view_programme",
        "wallets.add_valuetype",
        "wallets.change_valuetype",
        "wallets.view_valuetype",
        "wallets.add_resident",
        "wallets.change_resident",
        "wallets.view_resident",
        "wallets.add_wallet",
        "wallets.change_wallet",
        "wallets.view_wallet",
        "wallets.grant_wallet",
        "wallets.reissue_pin",
        "wallets.view_account",
        "wallets.view_journalentry",
        "wallets.view_posting",
        "wallets.view_importrun",
        "wallets.add_importrun",
        "wallets.view_noticebatch",
    ],
    MERCHANTS: [
        "merchants.add_company",
        "merchants.change_company",
        "merchants.view_company",
        "merchants.add_store",
        "merchants.change_store",
        "merchants.view_store",
        "merchants.add_terminal",
        "merchants.change_terminal",
        "merchants.view_terminal",
        "merchants.add_user",
        "merchants.change_user",
        "merchants.view_user",
        "merchants.view_exportfile",
        "merchants.view_bankaccountchange",
        "merchants.approve_bankaccountchange",
        "payments.add_apikey",
        "payments.change_apikey",
        "payments.view_apikey",
        "wallets.view_programme",
    ],
    SETTLEMENT: [
        "settlement.add_settlementrun",
        "settlement.view_settlementrun",
        "settlement.change_payout",
        "settlement.view_payout",
        "settlement.approve_payout",
        "settlement.download_transfer_file",
        "settlement.view_payoutline",
        "settlement.add_payingaccount",
        "settlement.change_payingaccount",
        "settlement.view_payingaccount",
        "payments.view_payment",
        "payments.change_payment",
        "payments.view_paymentsplit",
        "wallets.view_programme",
        "merchants.view_company",
    ],
}


def roles_sync(Group, Permission) -> None:
    """Create or update the groups; takes the models so that a migration can pass its own."""
    for name, names in PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in (n.split(".") for n in names)
        )
    audit, _created = Group.objects.get_or_create(name=AUDIT)
    audit.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=VIEW_ALL_APPS, codename__startswith="view_"
        )
    )
