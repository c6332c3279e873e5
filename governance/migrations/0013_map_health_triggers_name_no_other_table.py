"""MapHealth triggers that name no table but governance_maphealth, and a row for every
existing map (issue #16).

0012's triggers named maps_journeymap, and on SQLite the rename that ends a rebuild of a
table fails while another table's trigger names it. This migration replaced them, and
gave every existing map a row. Both are now ``maps.derived``'s: the triggers are
declared by ``governance.derived_health`` and installed after every ``migrate`` (0012's
names are dropped wherever they remain), and its rebuild gives every map a row. What is
left here is the migration's place in the history.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0012_map_health_stored"),
    ]

    operations = []
