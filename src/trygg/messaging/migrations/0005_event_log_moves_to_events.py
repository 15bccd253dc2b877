"""Hand the event log's models to the ``events`` app (state only: the tables stay where they are)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("messaging", "0004_drop_duplicate_indexes"),
        ("events", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="EventRecipient"),
                migrations.DeleteModel(name="Event"),
                migrations.DeleteModel(name="StreamHead"),
            ],
        ),
    ]
