"""inbox-ingest: scheduled, idempotent CSV ingestion with Django and Celery."""
