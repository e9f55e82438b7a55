"""Import the XLSX export of Mercator, the open-source IS mapping tool that follows the ANSSI guide.

Mercator (*Configuration → Import*) exports one kind of object per workbook, named after its model
(``MApplication-20261129.xlsx``), with one header row of the object's attribute names and one row
per object; many-to-many relations are a column named after the relation holding ids separated by
commas (``logicalServers``: ``3, 7``). Several such files, or one workbook with a sheet per kind,
are read together. The kind of each sheet comes from the sheet name, else the file name, else its
columns.

What becomes what (ids are prefixed so they stay stable from one export to the next):

=================  ===========================  ==============================================
Mercator           Garde node                   relations used
=================  ===========================  ==============================================
Network            ``zone`` ``net-<id>``         a network named or typed *Internet* also gets
                                                a link ``link-net-<id>`` (kind ``internet``)
                                                through which every other network reaches it
Subnetwork         ``zone`` ``subnet-<id>``      ``network_id`` (both ways), ``connected_subnets_id``
LogicalServer      ``server`` ``srv-<id>``       zone: the subnetwork whose ``address`` holds
                                                one of its ``address_ip``; ``applications``,
                                                ``databases`` (hosted there)
Database           ``datastore`` ``db-<id>``     ``logicalServers`` (hosted there)
MApplication       ``application`` ``app-<id>``  ``logicalServers`` (one: ``hosted_on``; several:
                                                ``requires`` each), ``databases`` (``requires``)
Flux               dependencies                 a flow from A to B makes B ``degraded_without`` A
                                                (capability: the flow's name), unless A already
                                                counts on B (a flow closing a cycle is a warning)
=================  ===========================  ==============================================

Every problem names the file, sheet, row and column; any error rejects the whole import. Rows that
cannot be represented (a flow between application services or modules, an address that is not an IP)
become warnings. Pure Python: python-calamine reads the workbook.
"""

from __future__ import annotations

import dataclasses
import io
import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path

from garde.impact.loader import MapError, Problem, build_map, parse_yaml
from garde.impact.model import Map

APPLICATION, SERVER, DATABASE, FLUX, NETWORK, SUBNETWORK = (
    "application", "logical server", "database", "flow", "network", "subnetwork")

# Sheet or file names (lower case, letters and digits only) of each kind: Mercator's model and table
# names, in English and French.
NAMES = {
    APPLICATION: {"mapplication", "mapplications", "application", "applications"},
    SERVER: {"logicalserver", "logicalservers", "serveurlogique", "serveurslogiques"},
    DATABASE: {"database", "databases", "basededonnees", "basesdedonnees"},
    FLUX: {"flux", "fluxes", "applicationflow", "applicationflows", "fluxapplicatif", "fluxapplicatifs"},
    NETWORK: {"network", "networks", "reseau", "reseaux"},
    SUBNETWORK: {"subnetwork", "subnetworks", "sousreseau", "sousreseaux"},
}
PREFIX = {APPLICATION: "app", SERVER: "srv", DATABASE: "db", NETWORK: "net", SUBNETWORK: "subnet"}
MISSING, UNSUPPORTED = "-missing-", "-unsupported-"
TRUE = {"1", "1.0", "true", "yes", "oui", "vrai", "x"}

Source = Path | str | tuple[str, bytes]


class _Sheet:
    def __init__(self, label: str, kind: str, header: dict[str, str], rows: list[tuple[int, dict]]):
        self.label, self.kind, self.header, self.rows = label, kind, header, rows


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _kind_from_name(name: str) -> str | None:
    key = _key(name)
    for kind, names in NAMES.items():
        if key in names:
            return kind
    return None


def _kind_from_columns(columns: set[str]) -> str | None:
    if {"applicationsourceid", "applicationdestid"} & columns:
        return FLUX
    if "networkid" in columns and "address" in columns:
        return SUBNETWORK
    if {"operatingsystem", "addressip"} & columns:
        return SERVER
    if "protocoltype" in columns:
        return NETWORK
    if {"rto", "applicationblockid"} & columns:
        return APPLICATION
    return None


def _read(source: Source, problems: list[Problem], warnings: list[str]) -> list[_Sheet]:
    from python_calamine import CalamineWorkbook

    if isinstance(source, tuple):
        filename, content = source
        opener = lambda: CalamineWorkbook.from_filelike(io.BytesIO(content))  # noqa: E731
    else:
        path = Path(source)
        filename = path.name
        opener = lambda: CalamineWorkbook.from_path(str(path))  # noqa: E731
    try:
        workbook = opener()
    except Exception as error:  # calamine raises its own errors, zip and XML errors alike
        problems.append(Problem(filename, f"not a readable XLSX workbook ({error})"))
        return []
    sheets = []
    file_kind = _kind_from_name(re.split(r"[-_ .]\d", Path(filename).stem, maxsplit=1)[0])
    for sheet_name in workbook.sheet_names:
        label = f"{filename} sheet {sheet_name!r}"
        try:
            cells = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
        except Exception as error:
            problems.append(Problem(label, f"cannot be read ({error})"))
            continue
        numbered = [(number, row) for number, row in enumerate(cells, 1) if any(_text(c) for c in row)]
        if not numbered:
            continue
        head_number, head = numbered[0]
        header: dict[int, str] = {}
        names: dict[str, str] = {}
        for position, cell in enumerate(head):
            title = _text(cell)
            if not title:
                continue
            key = _key(title)
            if key in names:
                problems.append(Problem(f"{label} row {head_number}", f"column {title!r} appears twice"))
                continue
            header[position], names[key] = key, title
        kind = _kind_from_name(sheet_name) or file_kind or _kind_from_columns(set(names))
        if kind is None:
            warnings.append(f"{label}: not one of the Mercator objects Garde imports "
                            f"(applications, logical servers, databases, flows, networks, subnetworks); ignored")
            continue
        missing = [c for c in ("id", "name") if c not in names and not (kind == FLUX and c == "name")]
        if missing:
            problems.append(Problem(f"{label} row {head_number}",
                                    f"no column {', '.join(map(repr, missing))} (a Mercator {kind} export has them)"))
            continue
        rows = [(number, {header[p]: cell for p, cell in enumerate(row) if p in header})
                for number, row in numbered[1:]]
        sheets.append(_Sheet(label, kind, names, rows))
    return sheets


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def load_mercator(sources: Iterable[Source], *, name: str = "", extra_yaml: str | None = None,
                  extra_filename: str = "extra.yaml") -> Map:
    """Build a map from Mercator XLSX exports (paths, or ``(filename, bytes)``).

    ``extra_yaml``, in the native format, adds what Mercator does not hold (business services, links,
    scenarios) and may refer to the imported ids. Raises ``MapError`` listing every problem.
    """
    problems: list[Problem] = []
    warnings: list[str] = []
    sheets = [sheet for source in sources for sheet in _read(source, problems, warnings)]
    if not problems and not sheets:
        problems.append(Problem("", "no sheet of applications, logical servers, databases, flows, networks "
                                    "or subnetworks was found"))
    builder = _Builder(problems, warnings)
    for kind in (NETWORK, SUBNETWORK, SERVER, DATABASE, APPLICATION):
        for sheet in sheets:
            if sheet.kind == kind:
                builder.objects(sheet)
    for sheet in sheets:
        if sheet.kind in (SERVER, DATABASE, APPLICATION, SUBNETWORK):
            builder.relations(sheet)
    for sheet in sheets:
        if sheet.kind == FLUX:
            builder.flows(sheet)
    items, where = builder.finish()
    extra, extra_locate = {}, None
    if extra_yaml is not None:
        try:
            extra, extra_locate = parse_yaml(extra_yaml, extra_filename)
        except MapError as error:
            problems.extend(error.problems)
        if not isinstance(extra, dict):
            problems.append(Problem(extra_filename, "expected a map in the native format (version, nodes)"))
            extra = {}
    if problems:
        raise MapError(problems)
    offset = len(items)
    extra_nodes = extra.get("nodes") or []
    data = {"version": 1, "name": name or extra.get("name") or "Mercator",
            "nodes": items + (extra_nodes if isinstance(extra_nodes, list) else [])}
    if extra.get("description"):
        data["description"] = extra["description"]
    if "scenarios" in extra:
        data["scenarios"] = extra["scenarios"]

    def locate(path: tuple) -> str:
        if len(path) >= 2 and path[0] == "nodes" and isinstance(path[1], int):
            if path[1] < offset:
                return where[path[1]]
            if extra_locate:
                return extra_locate(("nodes", path[1] - offset, *path[2:]))
        if extra_locate and path and path[0] == "scenarios":
            return extra_locate(path)
        return extra_filename if extra_locate else ""

    built = build_map(data, locate)
    return dataclasses.replace(built, warnings=tuple(warnings) + built.warnings)


class _Builder:
    def __init__(self, problems: list[Problem], warnings: list[str]):
        self.problems, self.warnings = problems, warnings
        self.items: dict[str, dict] = {}
        self.where: dict[str, str] = {}
        self.networks: dict[str, dict] = {}  # node id -> item
        self.subnets: list[tuple[ipaddress._BaseNetwork, str]] = []
        self.hosts: dict[str, set[str]] = {}
        self.needs: dict[str, set[str]] = {}
        self.lost: dict[tuple[str, str], list[str]] = {}

    # -- cells --

    def _id(self, here: str, value) -> int | None:
        text = _text(value)
        if not text:
            self.problems.append(Problem(here, "empty (Mercator's export keeps the ids)"))
            return None
        try:
            number = float(text)
        except ValueError:
            number = 0.5
        if not number.is_integer():
            self.problems.append(Problem(here, f"{text!r} is not a whole number"))
            return None
        return int(number)

    def _ids(self, here: str, column: str, value) -> list[int]:
        found = []
        for token in re.split(r"[,;\s]+", _text(value)):
            if not token:
                continue
            try:
                number = float(token)
                if not number.is_integer():
                    raise ValueError
                found.append(int(number))
            except ValueError:
                self.problems.append(Problem(here, f"{token!r} is not an id"))
        return found

    def _ref(self, here: str, sheet: _Sheet, column: str, kind: str, number: int) -> str | None:
        node_id = f"{PREFIX[kind]}-{number}"
        if node_id not in self.items:
            self.problems.append(Problem(here, f"column {sheet.header.get(_key(column), column)!r}: "
                                               f"unknown {kind} id {number} (not in the {kind} sheets)"))
            return None
        return node_id

    # -- passes --

    def objects(self, sheet: _Sheet) -> None:
        for number, row in sheet.rows:
            here = f"{sheet.label} row {number}"
            mercator_id = self._id(f"{here}, column {sheet.header['id']!r}", row.get("id"))
            name = _text(row.get("name"))
            if not name:
                self.problems.append(Problem(f"{here}, column {sheet.header['name']!r}", "the name is empty"))
            if mercator_id is None or not name:
                continue
            node_id = f"{PREFIX[sheet.kind]}-{mercator_id}"
            if node_id in self.items:
                self.problems.append(Problem(here, f"{sheet.kind} id {mercator_id} appears twice "
                                                   f"(first at {self.where[node_id]})"))
                continue
            kind = {NETWORK: "zone", SUBNETWORK: "zone", SERVER: "server", DATABASE: "datastore",
                    APPLICATION: "application"}[sheet.kind]
            item: dict = {"id": node_id, "kind": kind, "name": name}
            description = _text(row.get("description"))
            if description:
                item["description"] = description
            owner = _text(row.get("responsible") or row.get("responsibleexp") or "")
            if owner:
                item["owner"] = owner
            self.items[node_id], self.where[node_id] = item, here
            if sheet.kind == NETWORK:
                self.networks[node_id] = item
                if "internet" in f"{name} {_text(row.get('protocoltype'))}".lower():
                    link = f"link-{node_id}"
                    item["_link"] = link
                    self.items[link] = {"id": link, "kind": "link", "link_kind": "internet", "name": f"{name} (lien)"}
                    self.where[link] = here
            elif sheet.kind == SUBNETWORK:
                address = _text(row.get("address"))
                if address:
                    try:
                        self.subnets.append((ipaddress.ip_network(address, strict=False), node_id))
                    except ValueError:
                        self.warnings.append(f"{here}, column {sheet.header.get('address', 'address')!r}: "
                                             f"{address!r} is not a network address; servers are not placed in it")

    def relations(self, sheet: _Sheet) -> None:
        for number, row in sheet.rows:
            here = f"{sheet.label} row {number}"
            mercator_id = _text(row.get("id"))
            node_id = f"{PREFIX[sheet.kind]}-{mercator_id}"
            if node_id not in self.items or self.where[node_id] != here:
                continue

            def refs(column: str, kind: str, here=here, row=row) -> list[str]:
                return self._refs(here, sheet, row, column, kind)

            if sheet.kind == SUBNETWORK:
                item = self.items[node_id]
                for network in refs("networkid", NETWORK):
                    item.setdefault("reaches", []).append({"zone": network})
                    self.items[network].setdefault("reaches", []).append({"zone": node_id})
                for other in refs("connectedsubnetsid", SUBNETWORK):
                    item.setdefault("reaches", []).append({"zone": other})
                    self.items[other].setdefault("reaches", []).append({"zone": node_id})
            elif sheet.kind == SERVER:
                for app in refs("applications", APPLICATION):
                    self.hosts.setdefault(app, set()).add(node_id)
                for database in refs("databases", DATABASE):
                    self.hosts.setdefault(database, set()).add(node_id)
                zone = self._zone(here, sheet, row.get("addressip"))
                if zone:
                    self.items[node_id]["in_zone"] = zone
            elif sheet.kind == DATABASE:
                for server in refs("logicalservers", SERVER):
                    self.hosts.setdefault(node_id, set()).add(server)
            elif sheet.kind == APPLICATION:
                for server in refs("logicalservers", SERVER):
                    self.hosts.setdefault(node_id, set()).add(server)
                for database in refs("databases", DATABASE):
                    self.needs.setdefault(node_id, set()).add(database)

    def _refs(self, here: str, sheet: _Sheet, row: dict, column: str, kind: str) -> list[str]:
        if column not in row:
            return []
        label = f"{here}, column {sheet.header[column]!r}"
        found = [self._ref(here, sheet, column, kind, n) for n in self._ids(label, sheet.header[column], row[column])]
        return [f for f in found if f]

    def _zone(self, here: str, sheet: _Sheet, value) -> str | None:
        best = None
        for token in re.split(r"[,;\s]+", _text(value)):
            if not token:
                continue
            try:
                address = ipaddress.ip_address(token.split("/")[0])
            except ValueError:
                self.warnings.append(f"{here}, column {sheet.header.get('addressip', 'address_ip')!r}: "
                                     f"{token!r} is not an IP address; ignored")
                continue
            for network, zone in self.subnets:
                if address.version == network.version and address in network:
                    if best is None or network.prefixlen > best[0].prefixlen:
                        best = (network, zone)
        return best[1] if best else None

    def flows(self, sheet: _Sheet) -> None:
        for number, row in sheet.rows:
            here = f"{sheet.label} row {number}"
            name = _text(row.get("name")) or f"flux {number}"
            ends = [self._end(here, sheet, row, side) for side in ("source", "dest")]
            if UNSUPPORTED in ends:
                self.warnings.append(f"{here}: flow {name!r} joins application services or modules, "
                                     "which Garde does not import; ignored")
                continue
            if MISSING in ends:
                self.problems.append(Problem(here, f"flow {name!r} needs a source and a destination "
                                                   "(application or database)"))
                continue
            source, dest = ends
            if source is None or dest is None or source == dest:
                continue  # an unknown id, already reported
            self.lost.setdefault((dest, source), []).append((name, here))

    def _end(self, here: str, sheet: _Sheet, row: dict, side: str) -> str | None:
        for kind, column in ((APPLICATION, f"application{side}id"), (DATABASE, f"database{side}id")):
            if _text(row.get(column)):
                ids = self._ids(f"{here}, column {sheet.header[column]!r}", sheet.header[column], row[column])
                return self._ref(here, sheet, column, kind, ids[0]) if ids else None
        if any(_text(row.get(f"{other}{side}id")) for other in ("service", "module")):
            return UNSUPPORTED
        return MISSING

    def finish(self) -> tuple[list[dict], list[str]]:
        networks = list(self.networks)
        for a in networks:
            for b in networks:
                if a == b:
                    continue
                via = self.items[b].get("_link") or self.items[a].get("_link")
                self.items[a].setdefault("reaches", []).append({"zone": b, **({"via": via} if via else {})})
        for item in self.items.values():
            item.pop("_link", None)
            if "reaches" in item:
                unique = []
                for reach in item["reaches"]:
                    if reach not in unique and reach["zone"] != item["id"]:
                        unique.append(reach)
                item["reaches"] = unique
        for node_id, hosts in self.hosts.items():
            item = self.items[node_id]
            if len(hosts) == 1:
                item["hosted_on"] = next(iter(hosts))
            else:
                item.setdefault("requires", []).extend(sorted(hosts))
        for node_id, needed in self.needs.items():
            self.items[node_id].setdefault("requires", []).extend(sorted(needed - set(self.items[node_id].get("requires", []))))
        graph: dict[str, set[str]] = {
            node_id: set(item.get("requires", [])) | ({item["hosted_on"]} if "hosted_on" in item else set())
            for node_id, item in self.items.items()}
        for (target, source), flows in self.lost.items():
            if _reaches(graph, source, target):
                names = ", ".join(repr(name) for name, _ in flows)
                self.warnings.append(f"{flows[0][1]}: flow {names} ignored: {self.items[target]['name']!r} already "
                                     f"counts on {self.items[source]['name']!r} the other way (a cycle of flows)")
                continue
            graph[target].add(source)
            self.items[target].setdefault("degraded_without", []).append(
                {"target": source, "capability": ", ".join(dict.fromkeys(name for name, _ in flows))})
        order = list(self.items)
        return [self.items[i] for i in order], [self.where[i] for i in order]


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        for following in graph.get(todo.pop(), ()):
            if following == goal:
                return True
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return start == goal
