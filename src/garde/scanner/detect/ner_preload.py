"""Imported once by the fork server that the scanner's worker processes are forked from, when NER is
on (worker.Pool): the scanner and the spaCy model are loaded here, and every worker shares their
pages instead of loading its own copy (the model takes about 430 MB a process)."""

import garde.scanner.worker  # noqa: F401  (what every worker needs, imported once)
from garde.scanner.detect import ner

ner.preload()
