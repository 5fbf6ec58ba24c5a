"""A JSON parser with a bound on nesting depth.

DRF's JSONParser turns only ValueError into a 400; a body such as ``[[[[...]]]]`` nested
a thousand deep made Python's json module raise RecursionError, a 500. Here that is a
400, and so is any body nested deeper than CLEANINBOX_MAX_JSON_DEPTH (default 20; the
deepest valid request is 3), so no later code walks a pathological structure.
"""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant


def json_depth(value: object) -> int:
    """The deepest nesting of lists and objects in decoded JSON (a scalar is depth 0)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        )
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


class BoundedJSONParser(JSONParser):
    """JSONParser that refuses bodies nested deeper than CLEANINBOX_MAX_JSON_DEPTH."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            "".encode(encoding)  # refuses non-text codecs (zlib, base64) as well as unknown ones
            reader = codecs.getreader(encoding)
        except (LookupError, UnicodeError) as exc:
            raise ParseError(f"Unsupported charset {encoding!r}") from exc
        try:
            data = json.load(
                reader(stream),
                parse_constant=strict_constant if self.strict else None,
            )
        except RecursionError as exc:
            raise ParseError(self._too_deep()) from exc
        except ValueError as exc:  # also UnicodeDecodeError
            raise ParseError(f"JSON parse error - {exc}") from exc
        if json_depth(data) > settings.CLEANINBOX_MAX_JSON_DEPTH:
            raise ParseError(self._too_deep())
        return data

    @staticmethod
    def _too_deep() -> str:
        return f"JSON parse error - nested deeper than {settings.CLEANINBOX_MAX_JSON_DEPTH} levels"
