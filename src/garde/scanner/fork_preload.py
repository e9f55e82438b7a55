"""Imported by the fork server that the scanner's worker processes are forked from (worker.Pool),
after the spaCy model when NER is on (detect/ner_preload.py).

Everything a worker needs is built here once: the scanner's modules and the detectors' tables (first
names, medical terms, CIM-10 categories, patterns, by a warm-up detection). A forked worker shares
these pages until it writes to them. Then the memory freed while loading is given back to the system
(every worker would start with it otherwise), and the objects are frozen out of the garbage
collector, whose passes would write to every one of them in every worker and turn shared pages into
private copies."""

import gc

import pyarrow as pa

import garde.scanner.worker  # noqa: F401  (what every worker needs)
from garde.scanner import fork_guard, freed_memory
from garde.scanner.detect import engine

engine.warm_up()
pa.array([""])  # pyarrow imports pandas on its first conversion (about 45 MB): here, once
freed_memory.give_back()
gc.freeze()
fork_guard.disarm()  # loaded: the server's own loop now notices when the scan ends
