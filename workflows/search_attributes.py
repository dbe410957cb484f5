"""Typed search attributes operators can filter cases by. Never names or identity numbers."""

from __future__ import annotations

# name -> Temporal indexed value type, registered on the embedded dev server at start-up.
SEARCH_ATTRIBUTE_TYPES: dict[str, str] = {}
