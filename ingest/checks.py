"""System checks: a broken importer is refused at start-up, not at the first file.

``manage.py check`` (and every ``runserver``, ``migrate`` and worker start
through Django's checks) reports:

- ``ingest.E001`` a natural key without a unique constraint on exactly its
  fields: the set-based upsert's ``ON CONFLICT`` needs one;
- ``ingest.E002`` a column, or natural-key name, that is not a field of the
  importer's model;
- ``ingest.E003`` two importers with one name;
- ``ingest.E004`` a heading (name or alias) shared by two columns of one
  importer: a header could not say which column it is;
- ``ingest.E005`` a natural-key column declared optional: a file without it
  could not be matched to existing rows;
- ``ingest.E006`` an importer with neither ``model`` and ``natural_key``
  nor its own ``apply``.
"""

from collections import Counter

from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from .importers.base import Importer
from .importers.registry import importers_discovered


@checks.register()
def importers_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Return the problems of every registered importer."""
    discovered = importers_discovered()
    errors: list[checks.CheckMessage] = []
    for name, count in Counter(cls.name for cls in discovered).items():
        if count > 1:
            where = ", ".join(
                f"{cls.__module__}.{cls.__qualname__}"
                for cls in discovered
                if cls.name == name
            )
            errors.append(
                checks.Error(
                    f"{count} importers are named {name!r}: {where}.",
                    hint="Give each importer its own name.",
                    id="ingest.E003",
                )
            )
    for cls in discovered:
        errors.extend(_importer_problems(cls))
    return errors


def _importer_problems(cls: type[Importer]) -> list[checks.CheckMessage]:
    errors = []
    label = f"{cls.__module__}.{cls.__qualname__}"
    headings: Counter[str] = Counter()
    for column in cls.columns:
        headings.update(set(column.keys()))
    shared = sorted(key for key, count in headings.items() if count > 1)
    if shared:
        errors.append(
            checks.Error(
                f"{label}: heading(s) {', '.join(repr(s) for s in shared)} belong "
                "to more than one column.",
                hint="Remove the alias from all but one column.",
                obj=cls,
                id="ingest.E004",
            )
        )
    own_apply = cls.apply is not Importer.apply
    if cls.model is None or not cls.natural_key:
        if not own_apply:
            errors.append(
                checks.Error(
                    f"{label} declares no model and natural_key and no apply().",
                    hint="Declare model = <Model> and natural_key = (...).",
                    obj=cls,
                    id="ingest.E006",
                )
            )
        return errors
    columns = {column.name: column for column in cls.columns}
    fields: dict[str, str] = {}
    for name, column in columns.items():
        try:
            fields[name] = cls.model._meta.get_field(column.field or name).name
        except FieldDoesNotExist:
            errors.append(
                checks.Error(
                    f"{label}: column {name!r} is not a field of "
                    f"{cls.model._meta.label}.",
                    hint="Name the model field with Column(..., field='…').",
                    obj=cls,
                    id="ingest.E002",
                )
            )
    for name in cls.natural_key:
        if name not in columns:
            errors.append(
                checks.Error(
                    f"{label}: natural key {name!r} is not one of its columns.",
                    obj=cls,
                    id="ingest.E002",
                )
            )
        elif columns[name].optional:
            errors.append(
                checks.Error(
                    f"{label}: natural-key column {name!r} is optional.",
                    hint="A natural-key column must be in every file.",
                    obj=cls,
                    id="ingest.E005",
                )
            )
    key = {fields[name] for name in cls.natural_key if name in fields}
    if len(key) == len(cls.natural_key) and key not in _unique_sets(cls.model):
        errors.append(
            checks.Error(
                f"{label}: no unique constraint of {cls.model._meta.label} covers "
                f"exactly its natural key ({', '.join(cls.natural_key)}).",
                hint="Add unique=True or a UniqueConstraint (without a condition).",
                obj=cls,
                id="ingest.E001",
            )
        )
    return errors


def _unique_sets(model: type[models.Model]) -> list[set[str]]:
    """Return the field sets the database keeps unique for *model*."""
    meta = model._meta
    sets = [{field.name} for field in meta.concrete_fields if field.unique]
    sets += [set(fields) for fields in meta.unique_together]
    sets += [
        set(constraint.fields)
        for constraint in meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
        and constraint.fields
        and constraint.condition is None
        and not constraint.expressions
    ]
    return sets
