"""Settings for the test suite: the development configuration.

The real settings default to production (DEBUG off, which requires SECRET_KEY and
collected static files); the tests run as a developer does, with DEBUG=true unless the
environment says otherwise. Set in the environment rather than here so that the worker,
gunicorn and manage.py processes the tests start inherit it. Tests of the production
configuration start `manage.py` with DEBUG=false and DJANGO_SETTINGS_MODULE=cleaninbox.settings.
"""

import os

os.environ.setdefault("DEBUG", "true")

from cleaninbox.settings import *  # noqa: E402, F403
