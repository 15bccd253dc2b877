"""Protection flags may be set on a guardian too (one parent's secret number or address)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("directory", "0004_roster_grades_0_10"),
    ]

    operations = [
        migrations.AlterField(
            model_name="protection",
            name="pupil",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="protection",
                to=settings.AUTH_USER_MODEL,
                verbose_name="pupil or guardian",
            ),
        ),
    ]
