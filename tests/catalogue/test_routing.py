"""Routing between the catalogue's two datasets, whose columns overlap.

A books file's ``author`` column is an authors file's ``name``: the engine's
routing rules (tests/unit/test_routing.py) must still tell them apart.
"""

import pytest

from ingest.importers import FileRejected, route_choose
from ingest.models import InboxFile

ChosenBy = InboxFile.ChosenBy
BOOKS = ["title", "author", "year"]


def chosen(**kwargs) -> tuple[str, str]:
    route = route_choose(**kwargs)
    return route.importer.name, route.chosen_by


def test_the_header_decides_between_books_and_authors_whatever_the_name():
    for name in ("export-2026-11.csv", "Каталог 2026.csv", "authors.csv"):
        assert chosen(header=BOOKS, filename=name) == ("books", ChosenBy.HEADER)
    assert chosen(header=["Name", "Country"], filename="books.csv") == (
        "authors",
        ChosenBy.HEADER,
    )
    assert chosen(header=["name"]) == ("authors", ChosenBy.HEADER)


def test_books_headings_compare_without_case_spaces_or_a_bom():
    header = ["\ufeffTITLE ", " Author", "Published  Year"]
    assert chosen(header=header) == ("books", ChosenBy.HEADER)


def test_a_books_file_missing_its_year_is_refused_not_read_as_authors():
    with pytest.raises(FileRejected) as caught:
        route_choose(header=["title", "author"])
    assert str(caught.value) == (
        'Header "title, author" is closest to books, which also needs year: '
        "authors needs name (matched); books needs title, author, year "
        "(missing: year)."
    )


def test_ukrainian_headings_renamed_by_an_inbox_make_a_books_file():
    header = ["Назва книги", "Хто написав", "year"]
    with pytest.raises(FileRejected):
        route_choose(header=header)
    aliases = {"назва книги": "title", "ХТО НАПИСАВ": "author"}
    assert chosen(header=header, aliases=aliases) == ("books", ChosenBy.HEADER)


def test_no_match_suggests_the_catalogue_column_a_heading_was_meant_as():
    with pytest.raises(FileRejected) as caught:
        route_choose(header=["nme", "birth_yr"])
    message = str(caught.value)
    assert message.startswith('Header "nme, birth_yr" matches no dataset: ')
    assert "authors needs name (missing: name; " in message
    assert '"nme" is not a column of authors: did you mean name?' in message
    assert '"birth_yr" is not a column of authors: did you mean birth_year?' in message
    assert "books needs title, author, year (missing: title, author, year" in message
