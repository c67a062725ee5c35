"""City staff's roles as groups (core.roles: names and permissions). A later change to
core.roles.PERMISSIONS comes with a migration that calls roles_sync again."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from core.roles import roles_sync

    # Permissions are normally made after migrate; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    roles_sync(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def drop_roles(apps, schema_editor):
    from core.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


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
