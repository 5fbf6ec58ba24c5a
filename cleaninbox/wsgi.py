"""WSGI entry point (gunicorn cleaninbox.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cleaninbox.settings")
application = get_wsgi_application()
