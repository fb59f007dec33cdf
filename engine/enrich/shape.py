"""Typed reads from the services' JSON answers, which are untrusted input.

The answers are checked where they are read: a required part of the wrong type is
an `UnexpectedResponse` naming the spot (never a KeyError deep in a parser); an
optional field of the wrong type reads as missing.
"""

from __future__ import annotations

from engine.enrich.http import fail_shape


def as_dict(service: str, value: object, where: str) -> dict[str, object]:
    """`value` as a JSON object, or UnexpectedResponse."""
    if not isinstance(value, dict):
        fail_shape(service, where)
    return {str(k): v for k, v in value.items()}


def as_list(service: str, value: object, where: str) -> list[object]:
    """`value` as a JSON array, or UnexpectedResponse."""
    if not isinstance(value, list):
        fail_shape(service, where)
    return value


def member(service: str, obj: dict[str, object], key: str, where: str) -> dict[str, object]:
    """The object under `key` (required)."""
    return as_dict(service, obj.get(key), f"{where}.{key}")


def members(service: str, obj: dict[str, object], key: str, where: str) -> list[object]:
    """The array under `key` (required)."""
    return as_list(service, obj.get(key), f"{where}.{key}")


def opt_str(obj: dict[str, object], key: str) -> str | None:
    """A non-blank string field, else None."""
    value = obj.get(key)
    return value.strip() or None if isinstance(value, str) else None


def opt_int(obj: dict[str, object], key: str) -> int | None:
    """An integer field (not a bool, not a float), else None."""
    value = obj.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def opt_dict(obj: dict[str, object], key: str) -> dict[str, object]:
    """An object field, else an empty one."""
    value = obj.get(key)
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def str_list(obj: dict[str, object], key: str) -> list[str]:
    """The strings of an array field (other items and a missing field give nothing)."""
    value = obj.get(key)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def year_of(date: str | None) -> int | None:
    """The year of an ISO date ("1999-03-30", "1973"), or None for "" and garbage."""
    if date and len(date) >= 4 and date[:4].isdigit() and date[:4].isascii():
        return int(date[:4])
    return None
