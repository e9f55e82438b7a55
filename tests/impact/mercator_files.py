"""XLSX files shaped like Mercator's exports (Configuration → Import → Export), built with openpyxl.

Mercator writes one model per workbook, one sheet named "Worksheet", a header row of the model's
attribute names (created_at/updated_at/deleted_at left out) and its many-to-many relations as a column
of ids separated by commas. The columns below are those of Mercator's models.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

openpyxl = pytest.importorskip("openpyxl")

COLUMNS = {
    "MApplication": [
        "id", "name", "application_block_id", "description", "vendor", "product", "version", "entity_resp_id",
        "functional_referent", "editor", "technology", "documentation", "type", "users", "responsible",
        "security_need_c", "security_need_i", "security_need_a", "security_need_t", "security_need_auth", "rto",
        "rpo", "external", "attributes", "patching_frequency", "install_date", "update_date", "next_update",
        "entities", "processes", "activities", "services", "databases", "workstations", "logicalServers",
    ],
    "LogicalServer": [
        "id", "name", "type", "active", "description", "operating_system", "install_date", "attributes",
        "patching_frequency", "update_date", "next_update", "address_ip", "cpu", "memory", "disk", "disk_used",
        "cluster_id", "domain_id", "environment", "net_services", "configuration", "applications",
        "physicalServers", "documents", "databases", "certificates", "containers",
    ],
    "Database": [
        "id", "name", "description", "type", "entity_resp_id", "responsible", "security_need_c", "security_need_i",
        "security_need_a", "security_need_t", "external", "entities", "informations", "logicalServers",
    ],
    "Flux": [
        "id", "name", "description", "application_source_id", "service_source_id", "module_source_id",
        "database_source_id", "application_dest_id", "service_dest_id", "module_dest_id", "database_dest_id",
        "crypted", "bidirectional", "nature", "attributes",
    ],
    "Network": [
        "id", "name", "description", "protocol_type", "responsible", "responsible_sec", "security_need_c",
        "security_need_i", "security_need_a", "security_need_t",
    ],
    "Subnetwork": [
        "id", "name", "description", "address", "default_gateway", "ip_allocation_type", "vlan_id", "zone", "dmz",
        "wifi", "responsible_exp", "gateway_id", "network_id", "connected_subnets_id",
    ],
}

# A small hospital as Mercator holds it.
HOSPITAL = {
    "Network": [
        {"id": 1, "name": "Réseau du CH", "protocol_type": "TCP/IP", "responsible": "DSI"},
        {"id": 2, "name": "Internet", "protocol_type": "Internet"},
    ],
    "Subnetwork": [
        {"id": 10, "name": "VLAN Serveurs", "address": "10.1.0.0/16", "network_id": 1, "vlan_id": 10,
         "responsible_exp": "Équipe système"},
        {"id": 11, "name": "VLAN Soins", "address": "10.2.0.0/16", "network_id": 1, "vlan_id": 20},
        {"id": 12, "name": "DMZ", "address": "192.168.50.0/24", "network_id": 1, "dmz": "Oui"},
    ],
    "LogicalServer": [
        {"id": 100, "name": "SRV-DPI-01", "operating_system": "RHEL 9", "address_ip": "10.1.0.11",
         "environment": "PROD", "applications": "1000", "databases": "200"},
        {"id": 101, "name": "SRV-LABO", "operating_system": "Windows Server 2019", "address_ip": "10.1.0.12, 10.2.0.12"},
        {"id": 102, "name": "SRV-PORTAIL", "operating_system": "Debian 12", "address_ip": "192.168.50.5"},
    ],
    "Database": [
        {"id": 200, "name": "BDD DPI", "type": "Oracle", "responsible": "DBA"},
    ],
    "MApplication": [
        {"id": 1000, "name": "DPI", "responsible": "Direction des soins", "rto": 240, "databases": "200"},
        {"id": 1001, "name": "SIL Laboratoire", "logicalServers": "101", "rto": 480},
        {"id": 1002, "name": "Portail patient", "logicalServers": "102", "external": "Non"},
        {"id": 1003, "name": "Messagerie sécurisée", "logicalServers": ""},
    ],
    "Flux": [
        {"id": 1, "name": "Résultats HL7", "application_source_id": 1001, "application_dest_id": 1000,
         "crypted": 0, "bidirectional": 0, "nature": "HL7"},
        {"id": 2, "name": "Comptes rendus", "application_source_id": 1000, "application_dest_id": 1002,
         "bidirectional": 1},
        {"id": 3, "name": "Service interne", "service_source_id": 7, "application_dest_id": 1000},
        {"id": 4, "name": "Prescriptions connectées", "application_source_id": 1000, "application_dest_id": 1001},
    ],
}


def workbook_bytes(model: str, rows: list[dict], *, columns: list[str] | None = None, sheet: str = "Worksheet") -> bytes:
    book = openpyxl.Workbook()
    add_sheet(book.active, model, rows, columns=columns)
    book.active.title = sheet
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def add_sheet(worksheet, model: str, rows: list[dict], *, columns: list[str] | None = None) -> None:
    columns = columns or COLUMNS[model]
    worksheet.append(columns)
    for row in rows:
        worksheet.append([row.get(c) for c in columns])


def write_exports(folder: Path, data: dict | None = None) -> list[Path]:
    """One file per model, named as Mercator names its downloads."""
    paths = []
    for model, rows in (data or HOSPITAL).items():
        path = folder / f"{model}-20261129.xlsx"
        path.write_bytes(workbook_bytes(model, rows))
        paths.append(path)
    return paths


def one_workbook(path: Path, data: dict | None = None) -> Path:
    """Every model in one workbook, a sheet per model."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for model, rows in (data or HOSPITAL).items():
        add_sheet(book.create_sheet(model), model, rows)
    book.save(path)
    return path
