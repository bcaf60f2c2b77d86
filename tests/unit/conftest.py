"""The engine's unit tests run on the test-only datasets, not the catalogue."""

import pytest

#: The datasets every engine unit test sees (tests/testapp).
TEST_IMPORTERS = [
    "tests.testapp.journal_importers.JournalsImporter",
    "tests.testapp.journal_importers.PublishersImporter",
]


@pytest.fixture(autouse=True)
def test_datasets(settings):
    """Make journals and publishers the only datasets, as a team's project would.

    The catalogue has its own tests (tests/catalogue); a test of discovery
    itself sets ``INGEST_IMPORTERS`` back to None.
    """
    settings.INGEST_IMPORTERS = TEST_IMPORTERS
