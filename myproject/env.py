"""django-environ's ``Env``, strict where a typo would pass silently.

Two differences from the library: an empty variable (docker compose passes
unset ones through as ``X=``) means "use the default" for every type, and
a boolean that is neither true nor false (``DJANGO_DEBUG=flase``) is
refused instead of read as false.
"""

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Env(environ.Env):
    def get_value(
        self, var, cast=None, default=environ.Env.NOTSET, parse_default=False
    ):
        raw = self.ENVIRON.get(var)
        if raw is not None and not raw.strip() and default is not self.NOTSET:
            return default
        if (
            cast is bool
            and raw is not None
            and raw.strip().lower() not in (_TRUE | _FALSE)
        ):
            raise ImproperlyConfigured(f"{var}={raw!r} is not a boolean (use 1 or 0).")
        try:
            return super().get_value(var, cast, default, parse_default)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{var}={raw!r}: {exc}") from None

    def list(self, var, cast=None, default=environ.Env.NOTSET):
        """Return a comma-separated variable as its non-empty, stripped items."""
        items = super().list(var, cast=cast, default=default)
        return [item.strip() for item in items if str(item).strip()]


env = Env()
