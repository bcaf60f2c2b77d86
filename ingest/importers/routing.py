"""Choose a file's dataset: a person, else the inbox, else the header.

Precedence, highest first: the dataset a person chose for this file (upload
form, re-import, ``--importer``), the inbox's configured dataset, the
header, and the file-name prefix only to break a tie between datasets the
header fits equally well. A file's name alone never decides: an export
called ``export.csv`` goes where its columns say.
"""

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_noop

from ..models import InboxFile
from ..reasons import Joined, Reason
from .base import FileRejected, HeaderMatch, Importer, heading_key, no_header_hint
from .registry import importer_classes, importer_get

ChosenBy = InboxFile.ChosenBy
#: Unknown headings of a dataset named in a "matches no dataset" reason.
UNKNOWN_SHOWN = 3


@dataclass(frozen=True)
class Route:
    """The importer a file goes to and how it was chosen (``ChosenBy``)."""

    importer: Importer
    chosen_by: str


def route_choose(
    *,
    header: Sequence[str],
    requested: str = "",
    inbox_importer: str = "",
    filename: str = "",
    aliases: Mapping[str, str] | None = None,
) -> Route:
    """Return the importer for a file with *header*, or raise FileRejected.

    The header fits a dataset when every required column is present (by
    name or alias; optional ones may be missing). Among those that fit,
    the one reading the most of the header's columns wins; if several read
    equally many, the file name's prefix (``authors*.csv``) picks one of
    them; otherwise the file is refused, saying why per dataset.
    """
    if requested:
        return Route(importer_get(requested), ChosenBy.PERSON)
    if inbox_importer:
        return Route(importer_get(inbox_importer), ChosenBy.INBOX)
    matches = [cls.header_match(header, aliases) for cls in importer_classes()]
    fitting = [match for match in matches if match.ok]
    if not fitting:
        raise FileRejected(no_match_reason(header, matches))
    most = max(match.used for match in fitting)
    closest = max(matches, key=lambda match: match.used)
    if closest.used > most:
        # "title, author" is a books file missing its year, not an authors
        # file with an odd column: importing it as authors would be a guess.
        raise FileRejected(no_match_reason(header, matches, closest=closest))
    best = [match for match in fitting if match.used == most]
    if len(best) == 1:
        return Route(best[0].importer(), ChosenBy.HEADER)
    lowered = filename.lower()
    named = [m for m in best if lowered.startswith(m.importer.filename_prefixes)]
    if len(named) == 1:
        return Route(named[0].importer(), ChosenBy.NAME)
    names = ", ".join(match.importer.name for match in best)
    raise FileRejected(
        Reason(
            gettext_noop(
                'Header "%(header)s" fits several datasets equally well '
                "(%(names)s) and the file name does not say which; choose the "
                "dataset when re-importing, or set it on the inbox."
            ),
            header=_header_text(header),
            names=names,
        )
    )


def no_match_reason(
    header: Sequence[str],
    matches: Sequence[HeaderMatch],
    *,
    closest: HeaderMatch | None = None,
) -> Joined:
    """Return, per dataset, what it expected and what the header lacked.

    *closest* is a dataset the header resembles more than any it fits.
    """
    parts = []
    for match in matches:
        importer = match.importer
        required = [c.name for c in importer.columns if not c.optional]
        notes: list[Reason] = []
        if match.missing:
            notes.append(
                Reason(
                    gettext_noop("missing: %(columns)s"),
                    columns=", ".join(match.missing),
                )
            )
        else:
            notes.append(Reason(gettext_noop("matched")))
        for heading in match.unknown[:UNKNOWN_SHOWN]:
            guess = _suggestion(heading, importer)
            if guess:
                notes.append(
                    Reason(
                        gettext_noop(
                            '"%(heading)s" is not a column of %(dataset)s: did you '
                            "mean %(guess)s?"
                        ),
                        heading=heading,
                        dataset=importer.name,
                        guess=guess,
                    )
                )
        parts.append(
            Reason(
                gettext_noop("%(dataset)s needs %(columns)s (%(notes)s)"),
                dataset=importer.name,
                columns=", ".join(required),
                notes=Joined(notes, sep="; "),
            )
        )
    datasets = Joined(parts, sep="; ")
    if closest is not None:
        lead = Reason(
            gettext_noop(
                'Header "%(header)s" is closest to %(dataset)s, which also needs '
                "%(missing)s: %(datasets)s."
            ),
            header=_header_text(header),
            dataset=closest.importer.name,
            missing=", ".join(closest.missing),
            datasets=datasets,
        )
    else:
        lead = Reason(
            gettext_noop('Header "%(header)s" matches no dataset: %(datasets)s.'),
            header=_header_text(header),
            datasets=datasets,
        )
    return Joined([lead], sep="") + no_header_hint(header)


def _suggestion(heading: str, importer: type[Importer]) -> str:
    """Return the column *heading* was probably meant as, or ""."""
    names = {}
    for column in importer.columns:
        for key in column.keys():
            names[key] = column.name
    close = difflib.get_close_matches(
        heading_key(heading), list(names), n=1, cutoff=0.6
    )
    return names[close[0]] if close else ""


def _header_text(header: Sequence[str]) -> str | Reason:
    text = ", ".join(h.replace("\ufeff", "").strip() for h in header if h.strip())
    if not text:
        return Reason(gettext_noop("(empty)"))
    return (text[:200] + "…") if len(text) > 200 else text
