"""A test-only app: a model that is not a book, for the engine's own tests.

Installed by ``tests/settings.py`` only. Its importers live in
``journal_importers.py``, not ``importers.py``, so the registry does not
find them by itself: the tests that want them list them in
``INGEST_IMPORTERS``, and every other test sees the catalogue alone.
"""
