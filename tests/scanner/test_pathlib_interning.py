"""A scan makes a path for each file, part and archive member it meets: none may stay in memory after
use (pathlib_interning.py: Python 3.12 and 3.13 keep every interned path part for good)."""

import sys
import uuid
from pathlib import Path

import garde.scanner  # noqa: F401  (stops the interning when imported)


def test_paths_of_names_met_once_are_freed():
    before = sys.getallocatedblocks()
    for _ in range(20_000):
        str(Path("/dump/courriers") / f"{uuid.uuid4().hex}.txt")
    assert sys.getallocatedblocks() - before < 1_000  # 20,000 blocks kept with interning


def test_paths_still_compare_and_split_as_before():
    assert Path("/dump/a/../b.txt").parts == ("/", "dump", "a", "..", "b.txt")
    assert Path("/dump") / "b.txt" == Path("/dump/b.txt") and hash(Path("x/y")) == hash(Path("x") / "y")
