"""The catalogue's admin: its actions need the permissions they declare."""

import pytest

from catalogue.models import Author, Book
from tests.unit.test_security import admin_actions_check

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.mark.parametrize("model", [Author, Book], ids=lambda m: m.__name__)
def test_every_admin_action_needs_the_permission_it_declares(model, client, published):
    """An action (delete included) does nothing for staff lacking its permission."""
    author = Author.objects.create(name="Nobody's author")
    victim = {
        Author: author,
        Book: Book.objects.create(title="T", author=author),
    }[model]
    admin_actions_check(client, model, victim)
    assert [c for c in published if c["task"] == "ingest.tasks.import_file"] == []
