import datetime

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="ratelimit",
            name="window_length",
            # Rows from before keep the longest window then in use (password reset, 1 hour).
            field=models.DurationField(
                default=datetime.timedelta(hours=1), verbose_name="window length"
            ),
            preserve_default=False,
        ),
    ]
