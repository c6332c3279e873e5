# Issue #17: a map has several personas. The single `persona` FK becomes the
# many-to-many `personas`; each map's persona is copied over, and so is the persona of
# each historical row (so the history page still shows what the persona was).

import django.db.models.deletion
import simple_history.models
from django.db import migrations, models

BATCH = 2000


def copy_persona_to_personas(apps, schema_editor):
    JourneyMap = apps.get_model("maps", "JourneyMap")
    HistoricalJourneyMap = apps.get_model("maps", "HistoricalJourneyMap")
    HistoricalPersonas = apps.get_model("maps", "HistoricalJourneyMap_personas")
    Through = JourneyMap.personas.through
    rows = JourneyMap.objects.filter(persona__isnull=False).values_list("pk", "persona_id")
    Through.objects.bulk_create(
        (
            Through(journeymap_id=map_id, persona_id=persona_id)
            for map_id, persona_id in rows.iterator()
        ),
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    # A historical m2m row records the through row's id; an old persona that the map
    # no longer has never had a through row (0).
    link_ids = {
        (map_id, persona_id): link_id
        for link_id, map_id, persona_id in Through.objects.values_list(
            "pk", "journeymap_id", "persona_id"
        ).iterator()
    }
    history = HistoricalJourneyMap.objects.filter(persona__isnull=False).values_list(
        "history_id", "id", "persona_id"
    )
    HistoricalPersonas.objects.bulk_create(
        (
            HistoricalPersonas(
                history_id=history_id,
                id=link_ids.get((map_id, persona_id), 0),
                journeymap_id=map_id,
                persona_id=persona_id,
            )
            for history_id, map_id, persona_id in history.iterator()
        ),
        batch_size=BATCH,
    )


def copy_first_persona_back(apps, schema_editor):
    """Backwards: a map keeps the first of its personas by name (the FK holds one)."""
    JourneyMap = apps.get_model("maps", "JourneyMap")
    HistoricalJourneyMap = apps.get_model("maps", "HistoricalJourneyMap")
    HistoricalPersonas = apps.get_model("maps", "HistoricalJourneyMap_personas")
    first: dict[int, int] = {}
    links = JourneyMap.personas.through.objects.order_by("persona__name", "persona_id")
    for map_id, persona_id in links.values_list("journeymap_id", "persona_id").iterator():
        first.setdefault(map_id, persona_id)
    for map_id, persona_id in first.items():
        JourneyMap.objects.filter(pk=map_id).update(persona_id=persona_id)
    first_in_history: dict[int, int] = {}
    for history_id, persona_id in (
        HistoricalPersonas.objects.order_by("persona_id")
        .values_list("history_id", "persona_id")
        .iterator()
    ):
        first_in_history.setdefault(history_id, persona_id)
    for history_id, persona_id in first_in_history.items():
        HistoricalJourneyMap.objects.filter(history_id=history_id).update(persona_id=persona_id)


class Migration(migrations.Migration):
    dependencies = [
        ("maps", "0021_api_list_ordering_indexes"),
    ]

    operations = [
        # The m2m takes over the reverse name `maps`; the FK gives it up first.
        migrations.AlterField(
            model_name="journeymap",
            name="persona",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="maps.persona",
            ),
        ),
        migrations.AddField(
            model_name="journeymap",
            name="personas",
            field=models.ManyToManyField(blank=True, related_name="maps", to="maps.persona"),
        ),
        migrations.CreateModel(
            name="HistoricalJourneyMap_personas",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("m2m_history_id", models.AutoField(primary_key=True, serialize=False)),
                (
                    "history",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        to="maps.historicaljourneymap",
                    ),
                ),
                (
                    "journeymap",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="maps.journeymap",
                    ),
                ),
                (
                    "persona",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="maps.persona",
                    ),
                ),
            ],
            options={
                "verbose_name": "HistoricalJourneyMap_personas",
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.RunPython(copy_persona_to_personas, copy_first_persona_back),
        migrations.RemoveField(
            model_name="historicaljourneymap",
            name="persona",
        ),
        migrations.RemoveField(
            model_name="journeymap",
            name="persona",
        ),
    ]
