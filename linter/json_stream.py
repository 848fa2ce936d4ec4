"""JSON documents too large to hold: the items of one list are written to a file one by one, indented to
their depth, and the document is written around them at the end, byte for byte what
`json.dumps(doc, indent=2, ensure_ascii=False)` writes for the whole document (linter.bulk_stream)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, TextIO

PLACEHOLDER = "\x00items\x00"  # the list's place in the document written around the items


class JsonItems:
    """A JSON list at `depth` (the nesting json.dumps(indent=2) gives it), written item by item to `path`.
    The first item is also kept, for documents that are that one item when it is alone."""

    def __init__(self, path: Path, depth: int) -> None:
        self.path = path
        self.indent = "  " * (depth + 1)
        self.count = 0
        self.first: Any = None
        self._fh = path.open("w", encoding="utf-8")

    def add(self, item: Any) -> None:
        if self.count == 0:
            self.first = item
        text = json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n" + self.indent)
        self._fh.write(("" if self.count == 0 else ",\n") + self.indent + text)
        self.count += 1

    def close(self) -> None:
        self._fh.close()

    def write_document(self, dest: TextIO, doc: Any) -> None:
        """`doc` (holding PLACEHOLDER where this list goes) with the items, then a newline."""
        self.close()
        head, tail = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").split(json.dumps(PLACEHOLDER))
        dest.write(head)
        if self.count == 0:
            dest.write("[]")
        else:
            dest.write("[\n")
            with self.path.open(encoding="utf-8") as src:
                shutil.copyfileobj(src, dest)
            dest.write("\n" + self.indent[:-2] + "]")
        dest.write(tail)
