"""HL7 v2 messages: segments split on CR or LF, fields on the separator MSH declares. One message is
one record; each next of kin (NK1) is a record of its own, being another person."""

import re

from garde.scanner.extract.base import Source, extractor
from garde.scanner.model import Field, Record

# (segment, field number) -> what each component holds; component indexes are 0-based.
_PID_IDENTIFIER_TYPES_NIR = {"INS", "INS-NIR", "INS-NIA", "INS-C", "NH", "SS", "SNS", "NIR"}
_SEGMENT_SPLIT = re.compile(r"\r\n|\r|\n")


def _is_hl7(head: bytes) -> bool:
    return head.lstrip(b"\x0b\xef\xbb\xbf \r\n").startswith(b"MSH")


def _components(field: str, component_separator: str, repetition_separator: str) -> list[list[str]]:
    return [rep.split(component_separator) for rep in field.split(repetition_separator) if rep]


def _component(parts: list[str], index: int, subcomponent: str) -> str:
    return parts[index].split(subcomponent)[0].strip() if index < len(parts) else ""


class _Message:
    def __init__(self, number: int, field_sep: str, encoding: str):
        self.number = number
        self.field_sep = field_sep
        self.component = encoding[:1] or "^"
        self.repetition = encoding[1:2] or "~"
        self.subcomponent = encoding[3:4] or "&"
        self.fields: list[Field] = []
        self.kin: list[list[Field]] = []

    def add(self, target: list[Field], name: str, value: str, meaning: str | None) -> None:
        value = value.replace("\\S\\", "^").replace("\\T\\", "&").replace("\\F\\", "|").strip()
        if value and value != '""':
            target.append(Field(name, value, meaning))

    def segment(self, line: str) -> None:
        fields = line.split(self.field_sep)
        kind = fields[0].strip()
        if kind == "MSH":
            fields = [kind, self.field_sep, *fields[1:]]

        def reps(index: int) -> list[list[str]]:
            return _components(fields[index], self.component, self.repetition) if index < len(fields) else []

        def part(parts, index):
            return _component(parts, index, self.subcomponent)

        if kind == "PID":
            for parts in reps(3):
                code = part(parts, 4).upper()
                meaning = "nir" if code in _PID_IDENTIFIER_TYPES_NIR else "ipp"
                self.add(self.fields, "PID-3", part(parts, 0), meaning)
            self._name_and_contact(self.fields, "PID", reps(5), reps(11), reps(13) + reps(14), part)
            for parts in reps(7):
                self.add(self.fields, "PID-7", part(parts, 0), "birth_date")
            for parts in reps(18):
                self.add(self.fields, "PID-18", part(parts, 0), "nda")
            for parts in reps(19):
                self.add(self.fields, "PID-19", part(parts, 0), "nir")
        elif kind == "NK1":
            kin: list[Field] = []
            self._name_and_contact(kin, "NK1", reps(2), reps(4), reps(5) + reps(6), part)
            if kin:
                self.kin.append(kin)
        elif kind == "PV1":
            for parts in reps(19):
                self.add(self.fields, "PV1-19", part(parts, 0), "nda")
        elif kind == "DG1":
            for parts in reps(3):
                self.add(self.fields, "DG1-3", part(parts, 0), "diagnosis_code")
                self.add(self.fields, "DG1-3.2", part(parts, 1), "health")
            for parts in reps(4):
                self.add(self.fields, "DG1-4", part(parts, 0), "health")
        elif kind in ("OBX", "NTE"):
            index = 5 if kind == "OBX" else 3
            for parts in reps(index):
                self.add(self.fields, f"{kind}-{index}", " ".join(p for p in parts if p), None)

    def _name_and_contact(self, target, segment, names, addresses, phones, part) -> None:
        for parts in names:
            self.add(target, f"{segment} name", part(parts, 0), "last_name")
            self.add(target, f"{segment} name", part(parts, 1), "first_name")
        for parts in addresses:
            self.add(target, f"{segment} address", " ".join(filter(None, (part(parts, 0), part(parts, 1)))), "address")
            self.add(target, f"{segment} address", part(parts, 2), "city")
            self.add(target, f"{segment} address", part(parts, 4), "postal_code")
        for parts in phones:
            self.add(target, f"{segment} phone", part(parts, 0) or part(parts, 11), "phone")
            self.add(target, f"{segment} phone", part(parts, 3), "email")

    def records(self):
        if self.fields:
            yield Record(f"message {self.number}", self.fields)
        for index, kin in enumerate(self.kin, start=1):
            yield Record(f"message {self.number} NK1 {index}", kin)


@extractor("hl7", extensions={".hl7", ".hl7v2", ".er7"}, mime_types={"x-application/hl7-v2+er7"}, sniff=_is_hl7)
def extract_hl7(source: Source):
    message: _Message | None = None
    number = 0
    for raw in _SEGMENT_SPLIT.split(source.read_text()):
        line = raw.strip("\x0b\x1c\ufeff ")
        if not line:
            continue
        if line.startswith("MSH") and len(line) > 8:
            if message:
                yield from message.records()
            number += 1
            separator = line[3]
            message = _Message(number, separator, line[4:].split(separator, 1)[0])
        if message is not None:
            message.segment(line)
    if message:
        yield from message.records()
