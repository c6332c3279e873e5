from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from maps import derived

        from . import checks  # noqa: F401  (registers the deploy checks)
        from .derived_health import MAP_HEALTH

        derived.register(MAP_HEALTH)  # its triggers' life cycle: maps.apps
