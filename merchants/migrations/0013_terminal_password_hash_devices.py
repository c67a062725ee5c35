"""Terminal passwords kept only as a keyed hash, and one row per set-up device (issue 11).

The clear passwords are hashed in place (pin_hmac, keyed with PIN_HASH_KEY); their issue time
was never recorded, so it stays empty. Devices set up before this migration hold the old
"pk:pairing" cookie, which names no device row: they are asked to set up again once, with the
terminal password (a merchant who no longer has it issues a new one on the 端末 page). Going
back leaves every terminal with a fresh random password and every device unpaired.
"""

import django.utils.timezone
from django.contrib.auth.hashers import make_password
from django.db import migrations, models

from merchants.models import new_terminal_password


def hash_passwords(apps, schema_editor):
    Terminal = apps.get_model("merchants", "Terminal")
    terminals = list(Terminal.objects.exclude(setup_password="").only("pk", "setup_password"))
    for terminal in terminals:
        terminal.setup_password_hash = make_password(terminal.setup_password, hasher="pin_hmac")
    Terminal.objects.bulk_update(terminals, ["setup_password_hash"], batch_size=1000)


def fresh_passwords(apps, schema_editor):
    """Back to clear passwords: a new one each (the re-added column gave all the same)."""
    Terminal = apps.get_model("merchants", "Terminal")
    terminals = list(Terminal.objects.only("pk"))
    for terminal in terminals:
        terminal.setup_password = new_terminal_password()
    Terminal.objects.bulk_update(terminals, ["setup_password"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0012_password_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="terminal",
            name="setup_password_hash",
            field=models.CharField(blank=True, editable=False, max_length=128),
        ),
        migrations.AddField(
            model_name="terminal",
            name="setup_password_issued_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="terminal password issued at"
            ),
        ),
        migrations.RunPython(hash_passwords, fresh_passwords),
        migrations.RemoveField(model_name="terminal", name="setup_password"),
        migrations.RemoveField(model_name="terminal", name="pairing"),
        migrations.CreateModel(
            name="TerminalDevice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token_digest", models.CharField(editable=False, max_length=64, unique=True)),
                ("label", models.CharField(blank=True, max_length=100, verbose_name="device")),
                (
                    "client_address",
                    models.CharField(blank=True, max_length=45, verbose_name="address at set-up"),
                ),
                (
                    "paired_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="set up at"
                    ),
                ),
                (
                    "last_seen_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="last seen"
                    ),
                ),
                (
                    "terminal",
                    models.ForeignKey(
                        on_delete=models.deletion.CASCADE,
                        related_name="devices",
                        to="merchants.terminal",
                        verbose_name="terminal",
                    ),
                ),
            ],
            options={
                "verbose_name": "set-up device",
                "verbose_name_plural": "set-up devices",
                "ordering": ["-last_seen_at", "pk"],
            },
        ),
    ]
