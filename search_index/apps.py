from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class SearchIndexConfig(AppConfig):
    name = "search_index"
    verbose_name = "Search index"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # the triggers are never there while migrations run (search_index/index.py: SQLite
        # table rebuilds drop them or fail on them), and always there afterwards
        pre_migrate.connect(_before_migrate, sender=self, dispatch_uid="search_index_pre")
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="search_index_post")


def _before_migrate(sender, using: str = "default", plan=None, **kwargs) -> None:
    from . import index

    if plan and index.table_exists(using):
        index.drop_triggers(using)


def _after_migrate(sender, using: str = "default", **kwargs) -> None:
    from . import index

    if not index.table_exists(using):
        return  # migrated back to before the index
    if index.installed_triggers(using) != index.expected_triggers(using):
        index.rebuild(using)  # also installs the triggers
