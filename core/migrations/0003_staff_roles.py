"""City staff's roles as groups (core.roles); permissions frozen here as of this migration."""

from django.db import migrations

VIEW_ALL_APPS = ["core", "wallets", "merchants", "payments", "settlement"]

ROLES = {
    "事業担当": [
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
    ],
    "加盟店担当": [
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
        "payments.add_apikey",
        "payments.change_apikey",
        "payments.view_apikey",
        "wallets.view_programme",
    ],
    "精算担当": [
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


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after migrate; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(names):
        found = []
        for name in names:
            app_label, codename = name.split(".")
            found.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return found

    for name, names in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(perms(names))
    audit, _created = Group.objects.get_or_create(name="監査")
    audit.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=VIEW_ALL_APPS, codename__startswith="view_"
        )
    )


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[*ROLES, "監査"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_ratelimit_window_per_counter"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wallets", "0007_programme_payout_four_eyes_wallet_permissions"),
        ("merchants", "0008_user_failed_sign_ins"),
        ("payments", "0004_ratelimit_moved_to_core"),
        ("settlement", "0003_payout_approval"),
    ]

    operations = [migrations.RunPython(create_roles, drop_roles)]
