"""Typed search attributes operators can filter cases by. Never names or identity numbers.

They carry only the case's status, priority, county code and two flags, so the Temporal UI and
`temporal workflow list --query` can find, say, every overdue urgent case of a county.
"""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.common import SearchAttributeKey

CASE_STATUS = SearchAttributeKey.for_keyword("CaseStatus")
CASE_PRIORITY = SearchAttributeKey.for_keyword("CasePriority")
COUNTY_CODE = SearchAttributeKey.for_keyword("CountyCode")
PENDING_APPROVAL = SearchAttributeKey.for_bool("PendingApproval")
OVERDUE = SearchAttributeKey.for_bool("Overdue")

SEARCH_ATTRIBUTE_KEYS: list[SearchAttributeKey[Any]] = [
    CASE_STATUS,
    CASE_PRIORITY,
    COUNTY_CODE,
    PENDING_APPROVAL,
    OVERDUE,
]

# name -> Temporal indexed value type ("Keyword", "Bool"), as the dev server's --search-attribute
# flag takes them.
SEARCH_ATTRIBUTE_TYPES: dict[str, str] = {
    key.name: IndexedValueType.Name(key.indexed_value_type)  # type: ignore[arg-type]
    .removeprefix("INDEXED_VALUE_TYPE_")
    .title()
    for key in SEARCH_ATTRIBUTE_KEYS
}
