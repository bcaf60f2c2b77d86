"""Settings of the test run: the project's, plus a test-only app.

The processes the end-to-end tests start use ``myproject.settings``
itself; only this process also knows ``tests.testapp``.
"""

from myproject.settings import *  # noqa: F403
from myproject.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
