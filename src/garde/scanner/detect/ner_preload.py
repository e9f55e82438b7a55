"""Imported by the fork server that the scanner's worker processes are forked from, when NER is on
(worker.Pool), before garde/scanner/fork_preload.py: the spaCy model is loaded here once, and every
worker shares its pages instead of loading its own copy (the model takes about 430 MB a process)."""

from garde.scanner.detect import ner

ner.preload()
