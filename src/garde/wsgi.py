import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "garde.settings")
application = get_wsgi_application()

# Load the URL configuration (and with it every view module) now, then move everything that exists at
# start-up out of the garbage collector's reach: otherwise a full collection walks those objects every
# few requests and costs 60-90 ms, which set the p95 of the log page (docs/benchmarks.md).
get_resolver().check()
gc.collect()
gc.freeze()
