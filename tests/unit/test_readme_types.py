"""The README's "Value types and formats" says true things.

Its example of a type of one's own runs as written, through an importer's
``clean``, and its table names every type the engine exports.
"""

import re
import runpy
from pathlib import Path

import pytest

from ingest import importers
from ingest.importers import Column, Importer, RowError

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Value types and formats"


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split(SECTION, 1)[1].split("\n## ", 1)[0]


def test_the_type_of_ones_own_example_cleans_and_refuses(tmp_path):
    code = re.search(r"```python\n(.*?)```", section(), re.S)[1]
    example = tmp_path / "isbn.py"
    example.write_text(code, encoding="utf-8")
    namespace = runpy.run_path(str(example))

    class Books(Importer):
        name = "readme-isbn"
        columns = (Column("isbn", type=namespace["Isbn"]()), Column("title"))

    importer = Books()
    assert importer.clean(["978-617-585-007-5", "Кобзар"]) == (
        "9786175850075",
        "Кобзар",
    )
    with pytest.raises(RowError) as refused:
        importer.clean(["12-34", "Кобзар"])
    assert refused.value.column == "isbn"
    assert str(refused.value) == "isbn '12-34' is not an ISBN"
    with pytest.raises(RowError, match="isbn is empty"):
        importer.clean(["", "Кобзар"])


def test_the_table_names_every_exported_type():
    table = "\n".join(line for line in section().splitlines() if line.startswith("|"))
    named = set(re.findall(r"`([A-Z][a-zA-Z]+)\(", table))
    exported = {
        name
        for name in importers.__all__
        if isinstance(getattr(importers, name), type)
        and issubclass(getattr(importers, name), importers.ValueType)
        and name != "ValueType"
    }
    assert named == exported
