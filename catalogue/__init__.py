"""The example dataset: a book catalogue, imported by the ingest engine.

A team's own app looks the same: models, an ``importers.py`` the engine
finds by itself, an admin.
"""
