"""What a refused document still says: its values, each one the schema could not read
put back to its default or to a stand-in of its type, so that the checks across its parts
can run on the rest in the same round (domain/setup.py)."""

from __future__ import annotations

import copy
from collections.abc import Collection
from datetime import date
from typing import Any

import msgspec
import msgspec.inspect

from ledgerbridge.domain.malformed import Location


def what_could_be_read(
    kind: type[msgspec.Struct],
    raw: dict[str, Any],
    unreadable: Collection[Location],
    unknown_fields: Collection[Location] = (),
) -> dict[str, Any]:
    """A copy of `raw` that reads as a `kind`: the values at `unreadable` left out for their
    defaults, or replaced by stand-ins where they have none; the `unknown_fields` left out.

    The stand-ins mean nothing: a check that reads one must pass over it. Where a location
    is not one `kind` has (a schema other than `kind`'s named it), the copy is left as it is
    there, and may not read.
    """
    readable = copy.deepcopy(raw)
    for location in unknown_fields:
        try:
            _container(readable, location[:-1]).pop(location[-1])
        except (LookupError, TypeError, AttributeError):
            continue
    shape = msgspec.inspect.type_info(kind)
    for location in unreadable:
        try:
            _put_back(shape, readable, location)
        except (LookupError, TypeError, AttributeError):
            continue
    return readable


def _container(document: Any, location: Location) -> Any:
    for part in location:
        document = document[part]
    return document


def _put_back(kind: msgspec.inspect.Type, document: dict[str, Any], location: Location) -> None:
    """The value at `location` left out for its default, or replaced by a stand-in of its
    type where it has none (a required field, an item of a list)."""
    for part in location[:-1]:
        kind = _part_type(kind, part)
    holder, last = _container(document, location[:-1]), location[-1]
    kind = _without_none(kind)
    if isinstance(kind, msgspec.inspect.ListType):
        holder[last] = _stand_in(kind.item_type)
        return
    field = _field(kind, last)
    if field.required:
        holder[last] = _stand_in(field.type)
    else:
        holder.pop(last, None)


def _without_none(kind: msgspec.inspect.Type) -> msgspec.inspect.Type:
    if isinstance(kind, msgspec.inspect.UnionType):
        kinds = [item for item in kind.types if not isinstance(item, msgspec.inspect.NoneType)]
        if len(kinds) == 1:
            return kinds[0]
    return kind


def _part_type(kind: msgspec.inspect.Type, part: int | str) -> msgspec.inspect.Type:
    """The type of the value at `part` (a field's name, a list's position) in a `kind`."""
    kind = _without_none(kind)
    if isinstance(kind, msgspec.inspect.ListType):
        return kind.item_type
    return _field(kind, part).type


def _field(kind: msgspec.inspect.Type, name: int | str) -> msgspec.inspect.Field:
    if isinstance(kind, msgspec.inspect.StructType):
        for field in kind.fields:
            if field.encode_name == name:
                return field
    raise LookupError(name)  # not a place the schema could have named


def _stand_in(kind: msgspec.inspect.Type) -> object:
    """A value of type `kind`, standing for one that could not be read."""
    kind = _without_none(kind)
    if isinstance(kind, msgspec.inspect.StructType):
        return {field.encode_name: _stand_in(field.type) for field in kind.fields if field.required}
    if isinstance(kind, msgspec.inspect.ListType):
        return []
    if isinstance(kind, msgspec.inspect.LiteralType):
        return kind.values[0]
    if isinstance(kind, msgspec.inspect.DateType):
        return date.min
    if isinstance(kind, msgspec.inspect.BoolType):
        return False
    if isinstance(kind, msgspec.inspect.IntType):
        return (kind.gt or 0) + 1
    if isinstance(kind, msgspec.inspect.NoneType):
        return None
    return "?"  # a text, of at least one character
