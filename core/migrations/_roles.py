"""The roles' migration steps, shared by every migration that syncs core.roles again."""


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
