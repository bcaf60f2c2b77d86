"""A test-only app: models that are not books, for the engine's own tests.

Installed by ``tests/settings.py`` only. Its importers live in
``journal_importers.py``, not ``importers.py``, so the registry does not
find them by itself: ``tests/unit/conftest.py`` lists them in
``INGEST_IMPORTERS`` for every engine unit test (journals, and publishers
as the second dataset that routing and "choose the dataset" need), and
every other test sees the catalogue alone.
"""
