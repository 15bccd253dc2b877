"""A message can be marked sensitive (health, family matters): its text then needs a step-up."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("messaging", "0005_event_log_moves_to_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="sensitive",
            field=models.BooleanField(default=False),
        ),
    ]
