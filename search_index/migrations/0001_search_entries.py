import django.db.models.deletion
from django.db import migrations, models

from search_index import index


def full_text(apps, schema_editor):
    """The FTS5 table (SQLite) or the tsvector column with its GIN index (PostgreSQL).
    The triggers and the first fill come after the migration run (search_index/apps.py)."""
    index.ensure_schema(schema_editor.connection.alias)


def no_full_text(apps, schema_editor):
    index.drop_schema(schema_editor.connection.alias)


def link(to):
    return models.ForeignKey(
        blank=True,
        db_constraint=False,
        null=True,
        on_delete=django.db.models.deletion.DO_NOTHING,
        related_name="+",
        to=to,
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("maps", "0011_theydo_fields_tags_research"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("model", models.CharField(max_length=20)),
                ("object_id", models.BigIntegerField()),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("map", "Journey map"),
                            ("step", "Step"),
                            ("pain_point", "Pain point"),
                            ("insight", "Insight"),
                            ("opportunity", "Opportunity"),
                            ("research", "Research"),
                            ("idea", "Idea"),
                            ("source", "Research source"),
                            ("quote", "Quote"),
                            ("project", "CX project"),
                        ],
                        max_length=12,
                    ),
                ),
                ("title", models.TextField(blank=True)),
                ("body", models.TextField(blank=True)),
                ("evidence", models.CharField(blank=True, max_length=12)),
                ("updated_at", models.DateTimeField()),
                ("map", link("maps.journeymap")),
                ("project", link("maps.cxproject")),
                ("source", link("maps.researchsource")),
                ("step", link("maps.step")),
            ],
            options={
                "verbose_name": "search entry",
                "verbose_name_plural": "search entries",
                "ordering": ["pk"],
                "indexes": [
                    models.Index(fields=["map", "kind"], name="searchentry_map_kind_idx"),
                    models.Index(fields=["project"], name="searchentry_project_idx"),
                    models.Index(fields=["source"], name="searchentry_source_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("model", "object_id"), name="searchentry_source_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(full_text, no_full_text),
    ]
