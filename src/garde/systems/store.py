"""The stored IS map: versions, the current map, and all-or-nothing imports and edits.

The database keeps each version as canonical YAML (``impact.dump_map``); parsed maps are immutable, so
each version is parsed once per process and shared between requests.
"""

from dataclasses import dataclass

from django.db import transaction

from garde import impact
from garde.lib.hashing import sha256_bytes
from garde.systems.models import MapVersion, Scenario


class NoMap(LookupError):
    """No map has been imported yet."""


@dataclass(frozen=True)
class Loaded:
    version: MapVersion
    map: impact.Map


_parsed: dict[str, impact.Map] = {}
PARSED_KEPT = 8


def _parse(sha256: str, text: str) -> impact.Map:
    # Keyed by the hash alone: hashing a large map's text on every request would cost more than a lookup.
    found = _parsed.get(sha256)
    if found is None:
        if len(_parsed) >= PARSED_KEPT:
            _parsed.clear()
        found = _parsed[sha256] = impact.load_map(text, filename="map.yaml")
    return found


def current_version() -> MapVersion | None:
    return MapVersion.objects.order_by("-number").first()


def load(version: MapVersion | None = None) -> Loaded:
    """The given version, or the current map; raises NoMap when nothing was imported."""
    version = version or current_version()
    if version is None:
        raise NoMap
    return Loaded(version, _parse(version.sha256, version.yaml))


def parse_upload(*, yaml_file=None, nodes_file=None, dependencies_file=None, mercator_files=()) -> impact.Map:
    """A map from uploaded files: one YAML file, or nodes.csv with an optional dependencies.csv, or
    Mercator XLSX exports with an optional YAML file adding services and scenarios.

    Raises ``impact.MapError`` with every problem located by file, line or row, and field.
    """
    if mercator_files:
        sources = []
        for upload in mercator_files:
            upload.seek(0)
            sources.append((upload.name, upload.read()))
        return impact.load_mercator(sources, extra_yaml=_text(yaml_file) if yaml_file else None,
                                    extra_filename=yaml_file.name if yaml_file else "")
    if yaml_file is not None:
        return impact.load_map(_text(yaml_file), filename=yaml_file.name)
    return impact.load_csv(_text(nodes_file), _text(dependencies_file) if dependencies_file else None,
                           name="")


def _text(upload) -> str:
    upload.seek(0)
    raw = upload.read()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise impact.MapError([impact.Problem(upload.name, "the file is not UTF-8 text")]) from None


@transaction.atomic
def save(map_: impact.Map, *, source: str, user=None) -> MapVersion:
    """Store ``map_`` as the new current version, and add the scenarios it defines that are not known yet."""
    text = impact.dump_map(map_)
    last = MapVersion.objects.select_for_update().order_by("-number").first()
    version = MapVersion.objects.create(
        number=(last.number + 1) if last else 1, name=map_.name, yaml=text,
        sha256=sha256_bytes(text.encode("utf-8")), source=source[:300], node_count=len(map_.nodes),
        created_by=user,
    )
    known = set(Scenario.objects.values_list("name", flat=True))
    for scenario in map_.scenarios:
        if scenario.name not in known:
            Scenario.objects.create(name=scenario.name, description=scenario.description,
                                    actions=[str(a) for a in scenario.actions], created_by=user)
    return version


def rebuild(data: dict, where: str) -> impact.Map:
    """Validate plain map data (``impact.to_dict`` shape) after an edit; problems are located at ``where``
    and the node concerned, since the edited text has no lines of its own."""
    from garde.impact.loader import build_map

    def locate(path: tuple) -> str:
        if len(path) >= 2 and path[0] == "nodes" and isinstance(path[1], int):
            try:
                return f"{where}, node {data['nodes'][path[1]]['id']!r}"
            except (KeyError, IndexError, TypeError):
                pass
        return where

    return build_map(data, locate)
