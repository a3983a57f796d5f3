"""Griffe extension: read a Google-style ``Example:`` section as ``Examples:``.

Griffe parses only the plural title as an examples section and renders the
singular one as an admonition of plain Markdown, in which ``>>>`` lines become
nested quotes. Both titles are Google style; this renders them alike, as code.
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension

_SINGULAR = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExampleSections(Extension):
    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _SINGULAR.sub(r"\1Examples:", obj.docstring.value)
