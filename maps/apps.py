from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class MapsConfig(AppConfig):
    name = "maps"
    verbose_name = "Journey maps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import derived
        from .derived.kpi_latest import KPI_LATEST
        from .derived.pain_point_counts import PAIN_POINT_COUNTS

        derived.register(KPI_LATEST)
        derived.register(PAIN_POINT_COUNTS)
        # no derived-data trigger exists while migrations run (maps/derived: SQLite table
        # rebuilds drop them or fail on them), and all are there afterwards; one pair of
        # receivers for every registered group (governance's too): both signals are sent
        # for every app, before and after the whole run
        pre_migrate.connect(_before_migrate, sender=self, dispatch_uid="maps_derived_pre")
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="maps_derived_post")


def _before_migrate(sender, using: str = "default", plan=None, **kwargs) -> None:
    from . import derived

    if plan:
        derived.drop_triggers(using)


def _after_migrate(sender, using: str = "default", **kwargs) -> None:
    from . import derived

    if not derived.is_current(using):
        derived.rebuild(using)  # also installs the triggers
