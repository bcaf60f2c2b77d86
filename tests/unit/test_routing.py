"""A file's dataset: a person, else the inbox, else the header, else the name."""

import pytest

from ingest.importers import FileRejected, registry, route_choose
from ingest.importers.base import Column, Importer, Integer, Text
from ingest.models import InboxFile

ChosenBy = InboxFile.ChosenBy
BOOKS = ["title", "author", "year"]


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
    """Register the two look-alike datasets beside the catalogue's."""
    settings.INGEST_IMPORTERS = [
        "catalogue.importers.BooksImporter",
        "catalogue.importers.AuthorsImporter",
        f"{__name__}.ShipmentsImporter",
        f"{__name__}.ReturnsImporter",
    ]
    assert len(registry.importer_classes()) == 4


def chosen(**kwargs) -> tuple[str, str]:
    route = route_choose(**kwargs)
    return route.importer.name, route.chosen_by


def test_the_header_decides_whatever_the_file_is_called():
    for name in ("export-2026-11.csv", "Каталог 2026.csv", "data (1).csv"):
        assert chosen(header=BOOKS, filename=name) == ("books", ChosenBy.HEADER)
    assert chosen(header=["Name", "Country"], filename="books.csv") == (
        "authors",
        ChosenBy.HEADER,
    )


def test_a_person_beats_the_inbox_which_beats_the_header():
    assert chosen(header=BOOKS, requested="authors", inbox_importer="books") == (
        "authors",
        ChosenBy.PERSON,
    )
    assert chosen(header=["name"], inbox_importer="books") == ("books", ChosenBy.INBOX)


def test_headings_compare_without_case_spaces_or_a_bom():
    header = ["\ufeffTITLE ", " Author", "Published  Year"]
    assert chosen(header=header) == ("books", ChosenBy.HEADER)


def test_the_dataset_reading_more_of_the_header_wins_over_one_that_also_fits():
    # authors reads "author" as its name column; books reads all three.
    assert chosen(header=BOOKS, filename="authors.csv") == ("books", ChosenBy.HEADER)


def test_optional_columns_may_be_missing_but_required_ones_may_not():
    assert chosen(header=["name"]) == ("authors", ChosenBy.HEADER)
    with pytest.raises(FileRejected, match=r"books needs title, author, year"):
        route_choose(header=["title", "year"])


def test_a_header_closer_to_a_dataset_it_does_not_fit_is_refused_not_guessed():
    with pytest.raises(FileRejected) as caught:
        route_choose(header=["title", "author"])
    assert str(caught.value) == (
        'Header "title, author" is closest to books, which also needs year: '
        "authors needs name (matched); books needs title, author, year "
        "(missing: year)."
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
    header = ["Назва книги", "Хто написав", "year"]
    with pytest.raises(FileRejected):
        route_choose(header=header)
    aliases = {"назва книги": "title", "ХТО НАПИСАВ": "author"}
    assert chosen(header=header, aliases=aliases) == ("books", ChosenBy.HEADER)


def test_no_match_says_per_dataset_what_was_expected_and_suggests_a_column():
    with pytest.raises(FileRejected) as caught:
        route_choose(header=["nme", "birth_yr"])
    message = str(caught.value)
    assert message.startswith('Header "nme, birth_yr" matches no dataset: ')
    assert "authors needs name (missing: name; " in message
    assert '"nme" is not a column of authors: did you mean name?' in message
    assert '"birth_yr" is not a column of authors: did you mean birth_year?' in message
    assert "books needs title, author, year (missing: title, author, year" in message


def test_an_unknown_dataset_chosen_by_a_person_is_refused():
    with pytest.raises(FileRejected, match="Unknown dataset 'films'; known: "):
        route_choose(header=BOOKS, requested="films")
