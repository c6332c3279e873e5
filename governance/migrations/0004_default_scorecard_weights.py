from django.db import migrations


def create_default_weights(apps, schema_editor):
    """The one row of quadrant weights, every quadrant counting the same."""
    ScorecardWeights = apps.get_model("governance", "ScorecardWeights")
    ScorecardWeights.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0003_scorecard_weights_and_snapshots"),
    ]

    operations = [
        migrations.RunPython(create_default_weights, migrations.RunPython.noop),
    ]
