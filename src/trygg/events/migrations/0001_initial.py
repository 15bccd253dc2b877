"""Take over the event log's models from the messaging app without touching the database.

The tables were made by ``messaging`` 0001-0004 and keep their names (``Meta.db_table``); this
migration only tells Django's state that they now belong here, and ``messaging`` 0005 tells it
they no longer belong there. No row moves, so an existing database upgrades in place.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("messaging", "0004_drop_duplicate_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Event",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("type", models.CharField(max_length=60)),
                        ("payload", models.JSONField(default=dict)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={"db_table": "messaging_event"},
                ),
                migrations.CreateModel(
                    name="EventRecipient",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("event", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="recipients", to="events.event")),
                        ("person", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "messaging_eventrecipient",
                        "constraints": [models.UniqueConstraint(fields=("person", "event"), name="unique_event_recipient")],
                    },
                ),
                migrations.CreateModel(
                    name="StreamHead",
                    fields=[
                        ("person", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name="+", serialize=False, to=settings.AUTH_USER_MODEL)),
                        ("last_event_id", models.BigIntegerField(default=0)),
                    ],
                    options={"db_table": "messaging_streamhead"},
                ),
            ],
        ),
    ]
