"""What the CLI writes: results on stdout, progress on stderr only for a person watching.

Stdout carries only the answer (a URL, an id, a table, JSON) so that ``$(twinctl ...)`` and pipes
get exactly that. Progress is drawn on stderr only when stderr is a terminal: in CI logs and
captured output a redrawn status line is just noise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any, TextIO

import click

LIST_COLUMNS = ("cloud_id", "owner", "status", "region", "url")
MISSING = "-"


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False))


def emit_json_line(value: Any) -> None:
    click.echo(json.dumps(value, separators=(",", ":")))


def emit_fields(record: dict[str, Any]) -> None:
    """``key: value`` lines, aligned, for a row, a job or the health counts."""
    width = max((len(key) for key in record), default=0)
    for key, value in record.items():
        click.echo(f"{key.ljust(width)}  {_cell(value)}")


def emit_table(rows: Iterable[dict[str, Any]], columns: tuple[str, ...] = LIST_COLUMNS) -> None:
    """A plain aligned table; needs every row first to size the columns (use --jsonl to stream)."""
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max([len(column), *(len(line[i]) for line in cells)]) for i, column in enumerate(columns)]
    for line in [list(columns), *cells]:
        click.echo("  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None or value == "":
        return MISSING
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


class Progress:
    """One status line on stderr, redrawn in place; silent unless the stream is a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self.enabled = _isatty(self._stream)
        self._drawn = False

    def note(self, message: str) -> None:
        """A one-off line for the person watching (e.g. which job was started)."""
        if self.enabled:
            self._clear()
            print(message, file=self._stream, flush=True)

    def show(self, job: dict[str, Any]) -> None:
        step = job.get("step")
        text = f"{job.get('cloud_id') or job.get('job_id')}: {job.get('runtime_status')}"
        if step:
            text += f" · {step}"
        self.line(text)

    def line(self, text: str) -> None:
        """Redraw the status line with ``text``."""
        if not self.enabled:
            return
        self._stream.write(f"\r\x1b[K{text}")
        self._stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self._clear()

    def _clear(self) -> None:
        if self._drawn:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._drawn = False


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False
