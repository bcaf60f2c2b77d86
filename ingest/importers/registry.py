"""Find every importer: each installed app's ``importers.py``, or a setting.

By default the registry imports ``<app>.importers`` of every installed app
(as the admin imports ``admin.py``) and takes each :class:`Importer`
subclass defined there that has a ``name``. A project that wants to choose
lists dotted class paths in ``INGEST_IMPORTERS`` instead; then only those
count. The registry is built once, on first use.
"""

import importlib
import inspect
from functools import cache

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string
from django.utils.translation import gettext_noop

from .. import conf
from ..reasons import Reason
from .base import FileRejected, Importer

#: The module of an app in which importers are looked for.
MODULE_NAME = "importers"


@cache
def importers_discovered() -> tuple[type[Importer], ...]:
    """Return every importer class the registry knows, in discovery order.

    Duplicated names are kept here for the system check to report
    (``ingest.E003``); lookups take the first.
    """
    dotted = conf.setting("INGEST_IMPORTERS")
    if dotted:
        found = []
        for path in dotted:
            try:
                found.append(import_string(path))
            except ImportError as exc:
                raise ImproperlyConfigured(
                    f"INGEST_IMPORTERS: cannot import {path!r}: {exc}"
                ) from exc
        return tuple(found)
    found = []
    for config in apps.get_app_configs():
        name = f"{config.name}.{MODULE_NAME}"
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        found.extend(
            cls
            for cls in vars(module).values()
            if inspect.isclass(cls)
            and issubclass(cls, Importer)
            and cls.__module__ == module.__name__
            and getattr(cls, "name", "")
        )
    return tuple(found)


def importers_by_name() -> dict[str, type[Importer]]:
    """Return each importer by its registry name (the first of a duplicate)."""
    registry: dict[str, type[Importer]] = {}
    for cls in importers_discovered():
        registry.setdefault(cls.name, cls)
    return registry


def importer_classes() -> list[type[Importer]]:
    """Return every registered importer class, in registry-name order."""
    registry = importers_by_name()
    return [registry[name] for name in sorted(registry)]


def importer_names() -> list[str]:
    """Return the registry names, sorted, for messages and validation."""
    return sorted(importers_by_name())


def importer_get(name: str) -> Importer:
    """Return a fresh importer named *name*; FileRejected for an unknown one."""
    try:
        return importers_by_name()[name]()
    except KeyError:
        raise FileRejected(
            Reason(
                gettext_noop("Unknown dataset %(name)s; known: %(known)s."),
                name=repr(name),
                known=", ".join(importer_names()),
            )
        ) from None


@receiver(setting_changed)
def _registry_forget(*, setting: str, **kwargs) -> None:
    """Rebuild the registry when a test overrides ``INGEST_IMPORTERS``."""
    if setting == "INGEST_IMPORTERS":
        importers_discovered.cache_clear()
