"""Settings of the test run: the project's, plus a test-only app.

The processes the end-to-end tests start use ``myproject.settings``
itself; this process, and the ones it starts with its own environment (the
benchmark's), also know ``tests.testapp``. ``INGEST_IMPORTERS`` in the
environment (dotted paths, comma-separated) lists the datasets, as a
deployment could; unset, the registry discovers the catalogue's.
"""

import environ

from myproject.settings import *  # noqa: F403
from myproject.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
INGEST_IMPORTERS = environ.Env().list("INGEST_IMPORTERS", default=None)
