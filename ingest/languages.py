"""Which language a file's emails and notes are written in, and the choices.

A person reading the dashboard gets their own language (LocaleMiddleware:
the switcher's cookie, else the browser's); an email or an ``.error.txt``
has no reader yet, so it is written in its inbox's language, else the
site's (``LANGUAGE_CODE``, from ``DJANGO_LANGUAGE_CODE``).
"""

from django.conf import settings
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _


def language_supported(code: str) -> bool:
    """Return whether *code* is one of ``LANGUAGES``."""
    return code in dict(settings.LANGUAGES)


def file_language(row) -> str:
    """Return the language of *row*'s email: its inbox's, else the site's."""
    inbox = row.inbox if row.inbox_id else None
    code = inbox.language if inbox is not None else ""
    return code if code and language_supported(code) else settings.LANGUAGE_CODE


def language_choices() -> list[tuple[str, str]]:
    """Return an inbox's language choices: blank = the site's, then LANGUAGES."""
    return [
        ("", _("The site's language")),
        *(
            (code, get_language_info(code)["name_local"])
            for code, _name in settings.LANGUAGES
        ),
    ]
