"""The report's files: the table as CSV, and one self-contained HTML page."""

from __future__ import annotations

import base64
import csv
import html
import os

from tuneweights.reporting.figures import TITLES
from tuneweights.reporting.rows import Report

_STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;font-size:90%}"
    "th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#eee}"
    "tr.PRUNED,tr.FAILED,tr.DIVERGED{color:#888}tr.best{font-weight:bold}img{max-width:100%;margin:1em 0}"
    "pre{background:#f6f6f6;padding:1em}"
)


def write_csv(result: Report, path: str) -> str:
    """The table, its header first; returns `path`."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(result.columns())
        writer.writerows(result.table())
    return path


def _html_table(result: Report) -> str:
    best = result.best.trial_id if result.best is not None else None
    head = "".join(f"<th>{html.escape(c)}</th>" for c in result.columns())
    body = []
    for row, cells in zip(result.rows, result.table(), strict=True):
        css = row.status + (" best" if row.trial_id == best else "")
        tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        body.append(f'<tr class="{html.escape(css)}">{tds}</tr>')
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def write_html(result: Report, path: str) -> str:
    """One self-contained page: the figures of `result.files` are embedded as base64 PNGs; returns `path`."""
    sections = [
        f"<h1>Search report: {html.escape(os.path.basename(result.project_dir))}</h1>",
        f"<pre>{html.escape(result.summary())}</pre>",
        "<h2>Trials</h2>",
        _html_table(result),
    ]
    for kind, title in TITLES.items():
        if kind in result.files:
            with open(result.files[kind], "rb") as f:
                data = base64.b64encode(f.read()).decode("ascii")
            sections += [f"<h2>{title}</h2>", f'<img alt="{kind}" src="data:image/png;base64,{data}">']
    if result.notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
        sections += ["<h2>Notes</h2>", f"<ul>{items}</ul>"]
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Search report</title>'
        f"<style>{_STYLE}</style></head><body>\n" + "\n".join(sections) + "\n</body></html>\n"
    )
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path
