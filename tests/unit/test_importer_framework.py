"""The importer seam, on a team's own model: discovery, checks, generic upsert.

Uses the test-only Journal model (tests/testapp), not the catalogue; only
the discovery test looks at what this project's apps declare.
"""

from pathlib import Path

import pytest
from django.core import checks
from django.db import models
from django.test.utils import isolate_apps

from ingest import checks as ingest_checks
from ingest import services
from ingest.checks import importers_check
from ingest.importers import Column, Importer, Integer, Text, registry
from ingest.models import InboxFile
from tests.factories import drop, row_versions
from tests.testapp.journal_importers import JournalsImporter
from tests.testapp.models import Journal
from tests.unit.conftest import TEST_IMPORTERS

JOURNALS = "tests.testapp.journal_importers.JournalsImporter"
db = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.fixture
def journals(settings):
    """Make the journals importer the only dataset, as a team's project would."""
    settings.INGEST_IMPORTERS = [JOURNALS]


def test_the_registry_finds_each_installed_apps_importers_module(settings):
    settings.INGEST_IMPORTERS = None  # Discovery, not the unit tests' list.
    found = {cls.__module__ for cls in registry.importers_discovered()}
    assert found == {"catalogue.importers"}
    assert registry.importer_names() == ["authors", "books"]


def test_ingest_importers_lists_exactly_the_importers_that_count(journals):
    assert registry.importer_classes() == [JournalsImporter]
    assert importers_check() == []


def imported(name: str, text: str) -> InboxFile:
    drop(name, text)
    services.inbox_scan()
    return InboxFile.objects.get(name=name)


@db
def test_a_declared_importer_upserts_by_its_natural_key(journals, eager):
    first = imported(
        "export.csv",
        "ISSN,Journal,Year,Publisher\n"
        "0028-0836,Nature,1869,Springer\n"
        "0036-8075,Science,1880,AAAS\n"
        "0036-8075,Science (dup),1880,AAAS\n",
    )
    assert (first.state, first.importer, first.importer_chosen_by) == (
        "done",
        "journals",
        "header",
    )
    assert (first.rows_total, first.rows_imported, first.rows_updated) == (3, 2, 0)
    assert Journal.objects.get(issn="0036-8075").title == "Science (dup)"  # Last wins.
    second = imported(
        "update.csv",
        "issn,title,year\n0028-0836,Nature (London),1869\n1234-5678,New,\n",
    )
    assert (second.rows_imported, second.rows_updated) == (1, 1)
    nature = Journal.objects.get(issn="0028-0836")
    # publisher is absent from the second file: the field is left alone.
    assert (nature.title, nature.year, nature.publisher) == (
        "Nature (London)",
        1869,
        "Springer",
    )
    new = Journal.objects.get(issn="1234-5678")
    assert (new.year, new.publisher) == (None, "")
    assert Path(second.stored_path).exists()


@db
def test_an_unchanged_row_is_matched_but_not_rewritten(journals, eager):
    """An upsert whose values are all equal writes no new row version."""
    imported("a.csv", "issn,title\n0028-0836,Nature\n")
    with row_versions(Journal) as version:
        before = version()
        row = imported("b.csv", "ISSN,Title\n0028-0836,Nature\n")  # Not a duplicate.
        assert (row.rows_imported, row.rows_updated) == (0, 1)
        assert version() == before, "the unchanged journal was written again"
        # The probe does see a write: a changed title is one.
        imported("c.csv", "issn,title\n0028-0836,Nature (London)\n")
        assert version() != before


# --- System checks ----------------------------------------------------------


def problems(*importers: type[Importer], monkeypatch) -> dict[str, list[str]]:
    monkeypatch.setattr(ingest_checks, "importers_discovered", lambda: importers)
    found: dict[str, list[str]] = {}
    for message in importers_check():
        assert message.level == checks.ERROR
        found.setdefault(message.id, []).append(message.msg)
    return found


@isolate_apps("tests.testapp")
def test_checks_refuse_broken_declarations_before_any_file_arrives(monkeypatch):
    class Plain(models.Model):
        # Neither field is required, so only E001-E006 are in question here.
        code = models.CharField(max_length=10, default="")
        label = models.CharField(max_length=10, unique=True, null=True)

        class Meta:
            app_label = "testapp"

        def __str__(self) -> str:
            return self.label

    class NoUniqueKey(Importer):
        name = "plain"
        model = Plain
        natural_key = ("code",)
        columns = (Column("code", type=Text(10)),)

    class NotAField(Importer):
        name = "notafield"
        model = Plain
        natural_key = ("label",)
        columns = (Column("label", type=Text(10)), Column("colour", type=Text(10)))

    class SharedAlias(Importer):
        name = "shared"
        model = Plain
        natural_key = ("label",)
        columns = (
            Column("label", aliases=("name",), type=Text(10)),
            Column("code", aliases=("Name",), type=Text(10)),
        )

    class OptionalKey(Importer):
        name = "optionalkey"
        model = Plain
        natural_key = ("label",)
        columns = (Column("label", type=Text(10), optional=True),)

    class Twin(Importer):
        name = "plain"
        model = Plain
        natural_key = ("label",)
        columns = (Column("label", type=Text(10)),)

    class Nothing(Importer):
        name = "nothing"
        columns = (Column("label", type=Text(10)),)

    found = problems(
        NoUniqueKey,
        NotAField,
        SharedAlias,
        OptionalKey,
        Twin,
        Nothing,
        monkeypatch=monkeypatch,
    )
    assert sorted(found) == [
        "ingest.E001",
        "ingest.E002",
        "ingest.E003",
        "ingest.E004",
        "ingest.E005",
        "ingest.E006",
    ]
    assert "covers exactly its natural key (code)" in found["ingest.E001"][0]
    assert "column 'colour' is not a field of testapp.Plain" in found["ingest.E002"][0]
    assert found["ingest.E003"][0].startswith("2 importers are named 'plain'")
    assert "'name'" in found["ingest.E004"][0]
    assert "natural-key column 'label' is optional" in found["ingest.E005"][0]
    assert "no model and natural_key and no apply()" in found["ingest.E006"][0]


@isolate_apps("tests.testapp")
def test_checks_refuse_types_that_cannot_store_lookups_without_a_key_and_unfilled_fields(
    monkeypatch,
):
    class Shelf(models.Model):  # noqa: DJ008
        label = models.CharField(max_length=10)  # Not unique: nothing to look up by.

        class Meta:
            app_label = "testapp"

    class Made(models.Model):  # noqa: DJ008
        code = models.CharField(max_length=10, unique=True)
        colour = models.CharField(max_length=10)  # Required, no default.

        class Meta:
            app_label = "testapp"

    class Item(models.Model):  # noqa: DJ008
        sku = models.CharField(max_length=10, unique=True)
        price = models.DecimalField(max_digits=8, decimal_places=2)
        shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, null=True)
        made = models.ForeignKey(Made, on_delete=models.CASCADE, null=True)
        weight = models.IntegerField()  # Required, no default.

        class Meta:
            app_label = "testapp"

    class Broken(Importer):
        name = "broken"
        model = Item
        natural_key = ("sku",)
        columns = (
            Column("sku"),
            Column("price", type=Text(20)),
            Column("shelf"),
            Column("made", create=True),
        )

    class Fine(Importer):
        name = "fine"
        model = Item
        natural_key = ("sku",)
        columns = (
            Column("sku"),
            Column("price"),
            Column("shelf", type=Integer(1, 10**9)),  # The id itself.
            Column("weight"),
        )

    found = problems(Broken, monkeypatch=monkeypatch)
    assert sorted(found) == ["ingest.E007", "ingest.E008", "ingest.E009"]
    assert found["ingest.E007"] == [
        "tests.unit.test_importer_framework.test_checks_refuse_types_that_cannot_"
        "store_lookups_without_a_key_and_unfilled_fields.<locals>.Broken: column "
        "'price' is a Text, which cannot store into 'price' (a DecimalField)."
    ]
    assert "testapp.Shelf has no one unique field" in found["ingest.E008"][0]
    assert len(found["ingest.E009"]) == 2
    assert any("colour need a value" in m for m in found["ingest.E009"])
    assert any("weight need a value" in m for m in found["ingest.E009"])
    assert problems(Fine, monkeypatch=monkeypatch) == {}


@pytest.mark.parametrize("listed", [None, TEST_IMPORTERS], ids=["discovered", "test"])
def test_the_shipped_and_the_test_importers_pass_the_checks(settings, listed):
    settings.INGEST_IMPORTERS = listed
    assert registry.importer_classes()
    assert importers_check() == []
