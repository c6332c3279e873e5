from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "maps"
    verbose_name = "Journey maps"
    default_auto_field = "django.db.models.BigAutoField"
