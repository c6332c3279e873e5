import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "journeyhub.settings")
application = get_wsgi_application()

from journeyhub.serving import prepare_process  # noqa: E402 -- once Django is set up

prepare_process()
