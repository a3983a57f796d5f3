"""mkdocs hook: the parts of the nav that depend on which pages exist.

* Pages in ``OPTIONAL`` are dropped from ``nav`` while they do not exist.
* The pages of ``docs/tutorials/``, if any, form a "Tutorials" section after
  "Getting started": ``tutorials/index.md`` first, then the others in file-name
  order. A "Tutorials" entry already in ``nav`` is left as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

OPTIONAL = {"strategy-benchmarks.md", "benchmarks.md"}
SECTION = "Tutorials"
AFTER = "getting-started.md"


def _drop_missing(nav: list[Any], docs: Path) -> list[Any]:
    kept = []
    for entry in nav:
        target = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(target, list):
            entry = {next(iter(entry)): _drop_missing(target, docs)}
        elif target in OPTIONAL and not (docs / target).is_file():
            continue
        kept.append(entry)
    return kept


def on_config(config: Any) -> Any:
    if config["nav"] is None:
        return config
    docs = Path(config["docs_dir"])
    nav = _drop_missing(config["nav"], docs)
    pages = sorted((docs / "tutorials").glob("*.md"), key=lambda p: (p.name != "index.md", p.name))
    if pages and not any(isinstance(e, dict) and SECTION in e for e in nav):
        after = [i for i, e in enumerate(nav) if AFTER in (e.values() if isinstance(e, dict) else [e])]
        section = {SECTION: [p.relative_to(docs).as_posix() for p in pages]}
        nav.insert(after[0] + 1 if after else len(nav), section)
    config["nav"] = nav
    return config
