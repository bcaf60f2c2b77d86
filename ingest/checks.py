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
  nor its own ``apply``;
- ``ingest.E007`` a column whose type cannot store into its field (text
  into a DecimalField), or a field no type fills (a ManyToManyField);
- ``ingest.E008`` a foreign-key column whose target has no unique field to
  look the value up by;
- ``ingest.E009`` a required field (no default, not nullable) that no
  column fills, of the model or of a lookup's ``create=True`` target: every
  insert would fail.
"""

from collections import Counter

from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from .importers import types
from .importers.base import Column, Importer
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
            model_field = cls.model._meta.get_field(column.field_path[0])
            fields[name] = model_field.name
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
            continue
        errors.extend(_type_problems(label, cls, column, model_field))
    errors.extend(_required_problems(label, cls, set(fields.values())))
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


def _type_problems(
    label: str, cls: type[Importer], column: Column, model_field
) -> list[checks.CheckMessage]:
    """Return why *column*'s type cannot fill *model_field* (E007, E008)."""
    kind = column.type
    where = f"{label}: column {column.name!r}"
    if isinstance(kind, types.Lookup):
        target = kind.model
        lookup_fields = {
            other.type.to
            for other in cls.columns
            if isinstance(other.type, types.Lookup)
            and other.field_path[0] == column.field_path[0]
        } or {kind.to}
        if lookup_fields not in _unique_sets(target):
            return [
                checks.Error(
                    f"{where} looks {target._meta.label} up by "
                    f"{', '.join(sorted(lookup_fields))}, which is not unique.",
                    hint="Look it up by a unique field: Column(..., lookup='code').",
                    obj=label,
                    id="ingest.E008",
                )
            ]
        return _create_problems(where, kind, lookup_fields, label)
    if model_field.is_relation and not isinstance(kind, types.Integer):
        try:
            types.type_for_field(model_field, lookup=column.field_path[1])
        except TypeError:
            return [
                checks.Error(
                    f"{where}: {model_field.related_model._meta.label} has no one "
                    "unique field to look its records up by.",
                    hint="Name one: Column(..., lookup='code'), or give the "
                    "field unique=True.",
                    obj=label,
                    id="ingest.E008",
                )
            ]
        return [
            checks.Error(
                f"{where} is a {type(kind).__name__} but {model_field.name!r} "
                "is a foreign key.",
                hint="Leave type out: the column looks the target up.",
                obj=label,
                id="ingest.E007",
            )
        ]
    stores = types.STORES_INTO.get(type(kind))
    if isinstance(kind, types.Choice):
        stores = types.STORES_INTO.get(type(kind.inner))
    internal = model_field.get_internal_type()
    if stores is not None and internal not in stores:
        return [
            checks.Error(
                f"{where} is a {type(kind).__name__}, which cannot store into "
                f"{model_field.name!r} (a {internal}).",
                hint="Leave type out to take it from the field, or declare one "
                "that stores into it.",
                obj=label,
                id="ingest.E007",
            )
        ]
    if column.type == types.Text(255) and internal not in types.STORES_INTO[types.Text]:
        try:
            types.type_for_field(model_field)
        except TypeError as error:
            return [
                checks.Error(
                    f"{where}: {error}.",
                    hint="Declare a type of your own (see the docs' Value types).",
                    obj=label,
                    id="ingest.E007",
                )
            ]
    return []


def _create_problems(
    where: str, kind: "types.Lookup", lookup_fields: set[str], label: str
) -> list[checks.CheckMessage]:
    if not kind.create:
        return []
    missing = [
        model_field.name
        for model_field in _required_fields(kind.model)
        if model_field.name not in lookup_fields
    ]
    if not missing:
        return []
    return [
        checks.Error(
            f"{where} creates {kind.model._meta.label} records with only "
            f"{', '.join(sorted(lookup_fields))}, but {', '.join(missing)} "
            "need a value.",
            hint="Give those fields a db_default or null=True.",
            obj=label,
            id="ingest.E009",
        )
    ]


def _required_fields(model: type[models.Model]) -> list:
    """Return the fields an INSERT naming only some columns would leave NULL."""
    return [
        model_field
        for model_field in model._meta.concrete_fields
        if not model_field.primary_key
        and not model_field.null
        and model_field.db_default is models.NOT_PROVIDED
        and not getattr(model_field, "auto_now", False)
        and not getattr(model_field, "auto_now_add", False)
        and not model_field.has_default()
    ]


def _required_problems(
    label: str, cls: type[Importer], filled: set[str]
) -> list[checks.CheckMessage]:
    """Return E009 for the model's required fields no column fills."""
    missing = [
        model_field.name
        for model_field in _required_fields(cls.model)
        if model_field.name not in filled
    ]
    if not missing:
        return []
    return [
        checks.Error(
            f"{label}: {cls.model._meta.label} field(s) {', '.join(missing)} "
            "need a value, and no column fills them.",
            hint="Add a column for each, or give the field a default.",
            obj=label,
            id="ingest.E009",
        )
    ]
