"""Route django-celery-results to its own connection where there is one.

Why it matters: an import runs in one transaction, and a progress report
written on that connection is invisible until the import commits. With a
``results`` alias (a second connection to the same database, ``TEST:
{"MIRROR": "default"}``) and this router in ``DATABASE_ROUTERS``, progress
is committed and seen at once. Without them everything still works; the
dashboard then shows a running import at 0 % until it finishes.
"""

from django.conf import settings

RESULTS_ALIAS = "results"


class ResultsRouter:
    """Send task results through the ``results`` alias when it is configured.

    On PostgreSQL ``results`` is a second connection to the same database, so
    ``update_state`` from inside an import transaction is committed and seen
    at once. Only ``default`` is ever migrated: both aliases name one
    database.
    """

    def _alias(self, model) -> str | None:
        if model._meta.app_label == "django_celery_results":
            if RESULTS_ALIAS in settings.DATABASES:
                return RESULTS_ALIAS
        return None

    def db_for_read(self, model, **hints):
        return self._alias(model)

    def db_for_write(self, model, **hints):
        return self._alias(model)

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != RESULTS_ALIAS
