import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "journeyhub.settings")
application = get_asgi_application()

from journeyhub.serving import prepare_process  # noqa: E402 -- once Django is set up

prepare_process()
