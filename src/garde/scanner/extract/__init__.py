"""Extractors turn a file into records of fields. Importing this package registers them all."""

from garde.scanner.extract import documents, hl7, mail, office, sql, structured, tabular, text  # noqa: F401 (registration)
from garde.scanner.extract.base import REGISTRY, ExtractionError, Extractor, Source, choose, for_mime

__all__ = ["REGISTRY", "ExtractionError", "Extractor", "Source", "choose", "for_mime"]
