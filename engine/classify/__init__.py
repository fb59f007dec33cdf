"""Classification: title parsing, content kind and Torznab category of a release.

`classify` is the entry point the pipeline calls; `parse_title` is exposed for
callers that parse in worker processes and pass the result on (`classify(...,
parsed=...)`), and the category helpers serve the Torznab caps endpoint.
"""

from engine.classify.categories import (
    TORZNAB_CATEGORIES,
    CategoryHints,
    category_by_name,
    category_for,
    category_name,
    hints_for,
    is_known,
    kind_of_category,
    kind_of_label,
    parent_of,
)
from engine.classify.kinds import classify
from engine.classify.titles import ParsedTitle, parse_title

__all__ = [
    "TORZNAB_CATEGORIES",
    "CategoryHints",
    "ParsedTitle",
    "category_by_name",
    "category_for",
    "category_name",
    "classify",
    "hints_for",
    "is_known",
    "kind_of_category",
    "kind_of_label",
    "parent_of",
    "parse_title",
]
