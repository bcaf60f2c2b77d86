"""The shipped catalogs: complete, compiled, and holding every string the code has.

A string added to the code without a Ukrainian translation fails here: the
catalogs are compiled with statistics (no untranslated or fuzzy message),
the committed ``.mo`` files must say what their ``.po`` files say (a user
without gettext gets them as they are), and makemessages run on a copy of
the code must find no message the catalogs lack.
"""

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import IS_CI

ROOT = Path(__file__).resolve().parents[2]
#: Every catalog the project ships: (app, domain).
CATALOGS = [
    ("ingest", "django"),
    ("ingest", "djangojs"),
    ("catalogue", "django"),
]
LANGUAGES = ["uk"]


def _needs(tool: str) -> str:
    """Return the path of a gettext *tool*; skip (fail under CI) without it."""
    found = shutil.which(tool)
    if found is None:
        message = f"needs GNU gettext's {tool} (apt-get install gettext)"
        if IS_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def _po(app: str, domain: str, language: str) -> Path:
    return ROOT / app / "locale" / language / "LC_MESSAGES" / f"{domain}.po"


def _catalog(mo: Path) -> dict:
    """Return a compiled catalog's messages, without its header."""
    with mo.open("rb") as handle:
        messages = dict(gettext.GNUTranslations(handle)._catalog)
    messages.pop("", None)
    return messages


def _compiled(po: Path, into: Path) -> Path:
    """Compile *po* into *into* with statistics; return the .mo (stats in .stats)."""
    mo = into / f"{po.parent.parent.parent.parent.name}-{po.stem}.mo"
    result = subprocess.run(
        [_needs("msgfmt"), "--check", "--statistics", "-o", str(mo), str(po)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    mo.with_suffix(".stats").write_text(result.stderr.strip().splitlines()[-1])
    return mo


def _complete(statistics: str) -> bool:
    """Return whether msgfmt's statistics line counts translated messages only."""
    return re.fullmatch(r"\d+ translated messages\.", statistics) is not None


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("app", "domain"), CATALOGS)
def test_every_message_is_translated_and_none_is_fuzzy(app, domain, language, tmp_path):
    mo = _compiled(_po(app, domain, language), tmp_path)
    statistics = mo.with_suffix(".stats").read_text()
    assert _complete(statistics), statistics
    assert int(statistics.split()[0]) > 0


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("app", "domain"), CATALOGS)
def test_the_committed_mo_says_what_its_po_says(app, domain, language, tmp_path):
    po = _po(app, domain, language)
    compiled = _compiled(po, tmp_path)
    committed = po.with_suffix(".mo")
    assert committed.exists(), f"run manage.py compilemessages: {committed} is missing"
    assert _catalog(committed) == _catalog(compiled), (
        f"{committed} is older than its .po: run manage.py compilemessages"
    )


def test_makemessages_finds_no_message_the_catalogs_lack(tmp_path):
    """Run makemessages on a copy of the code; its catalogs must hold nothing new."""
    _needs("xgettext")
    _needs("msgmerge")
    for name in ("manage.py", "myproject", "ingest", "catalogue"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, tmp_path / name)
    for domain in ("django", "djangojs"):
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "makemessages",
                "--no-obsolete",
                "--domain",
                domain,
                *(f"--locale={language}" for language in LANGUAGES),
            ],
            cwd=tmp_path,
            check=True,
            capture_output=True,
            env={
                "PATH": "/usr/bin:/bin",
                "DJANGO_SETTINGS_MODULE": "myproject.settings",
                "INGEST_VAR_DIR": str(tmp_path / "var"),
            },
        )
    compiled = tmp_path / "compiled"
    compiled.mkdir()
    for app, domain in CATALOGS:
        for language in LANGUAGES:
            # makemessages merged the code's messages into the copied catalog:
            # a new one is untranslated there, a changed one fuzzy.
            fresh = tmp_path / app / "locale" / language / "LC_MESSAGES"
            mo = _compiled(fresh / f"{domain}.po", compiled)
            statistics = mo.with_suffix(".stats").read_text()
            assert _complete(statistics), (
                f"{app} {domain} {language}: {statistics}; run makemessages -l "
                f"{language} --no-obsolete (and -d djangojs) and translate them"
            )
            shipped = _compiled(_po(app, domain, language), tmp_path)
            assert _catalog(mo) == _catalog(shipped), (
                f"{app} {domain} {language}: the catalog holds messages the code no "
                "longer has; run makemessages --no-obsolete"
            )
