"""Stops pathlib from interning the parts of the paths it parses.

pathlib (Python 3.12 and 3.13) passes every part of every path it parses to `sys.intern`, and since
3.12 interned strings are never freed (CPython issues gh-113993 and gh-121780; 3.14's pathlib no longer
interns). A scan builds paths with names met once (each file of the dump, each part file, each archive
member): its processes grew by about 300 bytes a file, 100 MB of the scan's own process over a 3 GB dump,
past 1 GB at 10 GB. Interning only saves memory when the same names recur; here it is what keeps them.

`stop()` gives pathlib's module a `sys` whose `intern` returns the string as it is; everything else is
the real `sys`. Paths compare, hash and print the same."""

import importlib
import sys
import types


class _SysWithoutIntern(types.ModuleType):
    def __getattr__(self, name: str):
        return getattr(sys, name)

    @staticmethod
    def intern(string: str) -> str:
        return string


def stop() -> None:
    for name in ("pathlib._local", "pathlib"):  # where _parse_path lives: 3.13 and 3.12
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if getattr(module, "sys", None) is sys:
            module.sys = _SysWithoutIntern("sys")
        return
