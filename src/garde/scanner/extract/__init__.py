"""Extractors turn a file into records of fields. Importing this package registers them all."""

from garde.scanner.extract import (  # noqa: F401 (registration)
    documents,
    hl7,
    images,
    mail,
    office,
    sql,
    structured,
    tabular,
    text,
)
from garde.scanner.extract.base import REGISTRY, ExtractionError, Extractor, Source, choose, for_mime

__all__ = ["REGISTRY", "ExtractionError", "Extractor", "Source", "choose", "for_mime"]
