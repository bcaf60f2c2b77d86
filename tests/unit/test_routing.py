"""A file's dataset: a person, else the inbox, else the header, else the name.

On the test-only datasets: journals and publishers overlap (a journals
file's ``publisher`` is a publishers file's ``name``), shipments and
returns below have the same columns. The catalogue's books and authors
have their own routing tests (tests/catalogue/test_routing.py).
"""

import pytest

from ingest.importers import FileRejected, registry, route_choose
from ingest.importers.base import Column, Importer, Integer, Text
from ingest.models import InboxFile
from tests.unit.conftest import TEST_IMPORTERS

ChosenBy = InboxFile.ChosenBy
JOURNALS = ["issn", "title", "year"]


class ShipmentsImporter(Importer):
    """Test-only: a dataset whose columns overlap another's entirely."""

    name = "shipments"
    columns = (Column("code", type=Text(20)), Column("qty", type=Integer(0, 10**6)))
    filename_prefixes = ("ship",)


class ReturnsImporter(Importer):
    """Test-only: the same columns as shipments, another meaning."""

    name = "returns"
    columns = (
        Column("code", aliases=("артикул",), type=Text(20)),
        Column("qty", type=Integer(0, 10**6)),
        Column("reason", type=Text(100), blank=True, optional=True),
    )
    filename_prefixes = ("ret",)


@pytest.fixture
def twins(settings):
    """Register the two look-alike datasets beside journals and publishers."""
    settings.INGEST_IMPORTERS = [
        *TEST_IMPORTERS,
        f"{__name__}.ShipmentsImporter",
        f"{__name__}.ReturnsImporter",
    ]
    assert len(registry.importer_classes()) == 4


def chosen(**kwargs) -> tuple[str, str]:
    route = route_choose(**kwargs)
    return route.importer.name, route.chosen_by


def test_the_header_decides_whatever_the_file_is_called():
    for name in ("export-2026-11.csv", "Журнали 2026.csv", "publishers.csv"):
        assert chosen(header=JOURNALS, filename=name) == ("journals", ChosenBy.HEADER)
    assert chosen(header=["Name", "Country"], filename="journals.csv") == (
        "publishers",
        ChosenBy.HEADER,
    )


def test_a_person_beats_the_inbox_which_beats_the_header():
    assert chosen(
        header=JOURNALS, requested="publishers", inbox_importer="journals"
    ) == ("publishers", ChosenBy.PERSON)
    assert chosen(header=["name"], inbox_importer="journals") == (
        "journals",
        ChosenBy.INBOX,
    )


def test_headings_compare_without_case_spaces_underscores_or_a_bom():
    header = ["\ufeffISSN ", " Journal", "First  Year"]
    assert chosen(header=header) == ("journals", ChosenBy.HEADER)
    assert chosen(header=["issn", "title", "first_year"]) == (
        "journals",
        ChosenBy.HEADER,
    )


def test_the_dataset_reading_more_of_the_header_wins_over_one_that_also_fits():
    # publishers reads "publisher" as its name column; journals reads all four.
    header = [*JOURNALS, "publisher"]
    assert chosen(header=header, filename="publishers.csv") == (
        "journals",
        ChosenBy.HEADER,
    )


def test_optional_columns_may_be_missing_but_required_ones_may_not():
    assert chosen(header=["name"]) == ("publishers", ChosenBy.HEADER)
    assert chosen(header=["issn", "title"]) == ("journals", ChosenBy.HEADER)
    with pytest.raises(FileRejected, match=r"journals needs issn, title \(missing"):
        route_choose(header=["title", "year"])


def test_a_header_closer_to_a_dataset_it_does_not_fit_is_refused_not_guessed():
    with pytest.raises(FileRejected) as caught:
        route_choose(header=["title", "publisher"])
    assert str(caught.value) == (
        'Header "title, publisher" is closest to journals, which also needs issn: '
        "journals needs issn, title (missing: issn); publishers needs name "
        "(matched)."
    )


def test_a_tie_is_broken_by_the_file_name_prefix(twins):
    header = ["code", "qty"]
    assert chosen(header=header, filename="ship-01.csv") == ("shipments", ChosenBy.NAME)
    assert chosen(header=header, filename="RET-01.csv") == ("returns", ChosenBy.NAME)


def test_a_tie_nothing_breaks_is_refused_naming_the_candidates(twins):
    with pytest.raises(FileRejected) as caught:
        route_choose(header=["code", "qty"], filename="export.csv")
    message = str(caught.value)
    assert 'Header "code, qty" fits several datasets equally well' in message
    assert "(returns, shipments)" in message and "choose the dataset" in message


def test_an_alias_of_one_dataset_does_not_make_a_tie(twins):
    # Only returns knows "артикул"; shipments lacks its code column then.
    assert chosen(header=["артикул", "qty"]) == ("returns", ChosenBy.HEADER)


def test_an_optional_column_present_breaks_what_would_be_a_tie(twins):
    assert chosen(header=["code", "qty", "reason"]) == ("returns", ChosenBy.HEADER)


def test_an_inboxs_aliases_rename_headings_before_matching():
    header = ["Шифр", "Назва журналу", "year"]
    with pytest.raises(FileRejected):
        route_choose(header=header)
    aliases = {"шифр": "issn", "НАЗВА ЖУРНАЛУ": "title"}
    assert chosen(header=header, aliases=aliases) == ("journals", ChosenBy.HEADER)


def test_no_match_says_per_dataset_what_was_expected_and_suggests_a_column():
    with pytest.raises(FileRejected) as caught:
        route_choose(header=["nme", "contry"])
    message = str(caught.value)
    assert message.startswith('Header "nme, contry" matches no dataset: ')
    assert "journals needs issn, title (missing: issn, title" in message
    assert "publishers needs name (missing: name; " in message
    assert '"nme" is not a column of publishers: did you mean name?' in message
    assert '"contry" is not a column of publishers: did you mean country?' in message


def test_an_unknown_dataset_chosen_by_a_person_is_refused():
    with pytest.raises(
        FileRejected, match=r"Unknown dataset 'films'; known: journals, publishers\."
    ):
        route_choose(header=JOURNALS, requested="films")
