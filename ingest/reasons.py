"""Reasons people read, kept as message ids and values, shown in their language.

A failed file's reason and a rejected row's are written once, by a worker
that speaks the site's language, and read later by anyone: an English
reader and a Ukrainian one must each see their own. So a reason is a
:class:`Reason` — a gettext message id (an English sentence with
``%(name)s`` placeholders, marked with ``gettext_noop`` so makemessages
finds it) and its values — stored as JSON beside the text it rendered to
then (``InboxFile.error_reason``, ``RowRejection.reason``), and rendered
again under the active language whenever it is shown. Values may be
reasons themselves, lists of them (:class:`Joined`) or large numbers
written with the reader's digit grouping (:class:`Grouped`).

A :class:`Reason` is also the text it rendered to when it was made (a
``str``), so code and tests that treat reasons as text keep working.
Rows written before reasons were stored, and any reason that no longer
renders, fall back to the text recorded with them.
"""

from collections.abc import Iterable, Mapping
from typing import Union

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext

Value = Union[str, int, float, None, "Grouped"]


class _Node(str):
    """Text that remembers how it was made, to be made again in another language."""

    node: dict

    @classmethod
    def _make(cls, node: dict) -> "_Node":
        self = super().__new__(cls, _render(node))
        self.node = node
        return self

    def __reduce__(self):
        return _rebuild, (self.node,)

    def __add__(self, other: str) -> "Joined":
        """Return this and *other* as one text, a space between (a hint)."""
        if not other:
            return self
        return Joined([self, other], sep=" ")

    def as_json(self) -> dict:
        return self.node


def _rebuild(node: dict) -> "_Node":
    return (Joined if "join" in node else Reason)._make(node)


class Reason(_Node):
    """A message id and its values; its text is the active language's."""

    def __new__(cls, msgid: str, /, **params: Value) -> "Reason":
        return cls._make({"msgid": msgid, "params": _json_params(params)})

    def __repr__(self) -> str:
        return f"Reason({self.node['msgid']!r}, **{self.node['params']!r})"


class Joined(_Node):
    """Several reasons (or plain texts) shown as one, *sep* between them."""

    def __new__(cls, items: Iterable[Value], *, sep: str = "; ") -> "Joined":
        return cls._make({"join": [_json_value(item) for item in items], "sep": sep})


class Deferred:
    """A reason not made yet: its message id and values, for the hot path.

    Rendering costs a gettext lookup (microseconds); a value type refusing
    a value makes one of these instead, and only the rejected rows that are
    kept (:data:`~ingest.conf` ``INGEST_MAX_ROW_ERRORS``) become reasons.
    """

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, /, **params: Value) -> None:
        self.msgid = msgid
        self.params = params

    def reason(self) -> Reason:
        return Reason(self.msgid, **self.params)


class Grouped:
    """A large number written with the active language's digit grouping.

    ``2147483648`` reads ``2,147,483,648`` in English and ``2 147 483 648``
    in Ukrainian; line numbers and small counts stay plain ints instead.
    """

    __slots__ = ("number",)

    def __init__(self, number: int) -> None:
        self.number = number

    def as_json(self) -> dict:
        return {"number": self.number}


def site_language() -> translation.override:
    """Return a context in which text is written in the site's language."""
    return translation.override(settings.LANGUAGE_CODE)


def _json_value(value):
    if isinstance(value, _Node | Grouped):
        return value.as_json()
    if value is None or isinstance(value, str | int | float):
        return str(value) if isinstance(value, str) else value
    return str(value)


def _json_params(params: Mapping[str, Value]) -> dict:
    return {key: _json_value(value) for key, value in params.items()}


def reason_json(reason: str) -> dict:
    """Return what is stored for *reason*: its JSON, or {} for plain text."""
    return reason.as_json() if isinstance(reason, _Node) else {}


def reason_stored(reason: str) -> tuple[str, dict]:
    """Return (text in the site's language, JSON) to record for *reason*.

    The text is what old readers, logs and searches fall back on; it is
    written in ``LANGUAGE_CODE`` whoever's request caused it.
    """
    stored = reason_json(reason)
    if not stored:
        return str(reason), {}
    with site_language():
        return reason_text(stored, str(reason)), stored


def _render(node) -> str:
    if isinstance(node, dict):
        if "join" in node:
            return str(node.get("sep", "")).join(_render(item) for item in node["join"])
        if "number" in node:
            return formats.number_format(
                node["number"], use_l10n=True, force_grouping=True
            )
        if "msgid" in node:
            params = {
                key: _param(value) for key, value in (node.get("params") or {}).items()
            }
            return gettext(node["msgid"]) % params
        raise ValueError("not a reason")
    return "" if node is None else str(node)


def _param(value):
    """Return a value as its placeholder takes it.

    Whole numbers stay numbers (``%(line)d``); fractions are written as the
    active language writes them (``10.5`` / ``10,5``), for ``%(share)s``.
    """
    if isinstance(value, dict):
        return _render(value)
    if isinstance(value, float):
        return formats.number_format(value, use_l10n=True)
    return value


def reason_text(node: dict | None, fallback: str = "") -> str:
    """Return the stored reason *node* as text in the active language.

    *fallback* (the text recorded with it) is returned for no reason at all,
    and for one that no longer renders (its placeholders changed).
    """
    if not node:
        return fallback
    try:
        return _render(node)
    except (KeyError, ValueError, TypeError):
        return fallback
