"""City staff's roles as groups (core.roles: names and permissions). A later change to
core.roles.PERMISSIONS comes with a migration that calls roles_sync again."""

from django.db import migrations

from core.migrations import _roles


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

    operations = [migrations.RunPython(_roles.create_roles, _roles.drop_roles)]
