"""JSON, JSON Lines and XML: keys and tags give each value its meaning. Every object (element) that
holds plain values is a record; nested plain values are flattened into it."""

import json
import xml.etree.ElementTree as ElementTree

from garde.scanner.extract.base import ExtractionError, Source, extractor
from garde.scanner.model import Field, Record

_MAX_RECORDS_DEPTH = 64


def _flatten(value, key: str | None, fields: list[Field], depth: int = 0) -> None:
    if depth > _MAX_RECORDS_DEPTH:
        return
    if isinstance(value, dict):
        for child_key, child in value.items():
            if not _is_record_list(child):
                _flatten(child, str(child_key), fields, depth + 1)
    elif isinstance(value, list):
        for item in value:
            if not isinstance(item, dict):
                _flatten(item, key, fields, depth + 1)
    elif value is not None and not isinstance(value, bool):
        fields.append(Field(key, str(value)))


def _is_record_list(value) -> bool:
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def json_records(value, path: str = "$", depth: int = 0):
    """An object is one record (its nested objects included), except lists of objects inside it,
    which are records of their own ("patients": [...])."""
    if depth > _MAX_RECORDS_DEPTH:
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_records(item, f"{path}[{index}]", depth + 1)
        return
    if not isinstance(value, dict):
        if value is not None:
            yield Record(path, [Field(None, str(value))])
        return
    fields: list[Field] = []
    _flatten(value, None, fields)
    if fields:
        yield Record(path, fields)
    for key, child in value.items():
        if _is_record_list(child):
            yield from json_records(child, f"{path}.{key}", depth + 1)


def _is_json(head: bytes) -> bool:
    return head.lstrip()[:1] in (b"{", b"[")


@extractor(
    "json",
    extensions={".json", ".jsonl", ".ndjson", ".geojson"},
    mime_types={"application/json", "application/x-ndjson"},
)
def extract_json(source: Source):
    if source.extension in (".jsonl", ".ndjson"):
        yield from _json_lines(source)
        return
    text = source.read_text()
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        if "\n" in text.strip() and text.lstrip().startswith("{"):
            yield from _json_lines(source)
            return
        raise ExtractionError(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
    yield from json_records(document)


def _json_lines(source: Source):
    with source.text_stream() as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                yield Record(f"line {number}", [Field(None, line)])
                continue
            yield from json_records(value, f"line {number}")


def _is_xml(head: bytes) -> bool:
    return head.lstrip()[:5] == b"<?xml"


@extractor("xml", extensions={".xml"}, mime_types={"application/xml", "text/xml"}, sniff=_is_xml)
def extract_xml(source: Source):
    # ElementTree does not expand external entities; internal entity bombs are bounded by the
    # per-file memory limit of the worker process.
    try:
        events = ElementTree.iterparse(source.open(), events=("end",))
        counter = 0
        for _, element in events:
            leaves = [child for child in element if len(child) == 0 and (child.text or "").strip()]
            attributes = [(k, v) for k, v in element.attrib.items() if v.strip()]
            if leaves:
                counter += 1
                fields = [Field(_local(child.tag), child.text.strip()) for child in leaves]
                fields += [Field(_local(k), v) for k, v in attributes]
                yield Record(f"element {counter} <{_local(element.tag)}>", fields)
                element.clear()
    except ElementTree.ParseError as error:
        raise ExtractionError(f"invalid XML: {error}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
