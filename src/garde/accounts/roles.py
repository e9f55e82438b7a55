"""Roles in a crisis cell and what each may do: the permission matrix of docs/permissions.md.

A user's role applies per crisis (a Membership), because the director of one crisis may be an observer of
another. Views ask for a capability, never for a role, so the matrix lives here and only here.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DIRECTOR = "director", _("Director")
    COORDINATOR = "coordinator", _("Coordinator")
    SCRIBE = "scribe", _("Scribe")
    IT_LEAD = "it_lead", _("IT / security lead")
    DPO = "dpo", _("Data protection officer")
    COMMUNICATION = "communication", _("Communication")
    FRONTDESK = "frontdesk", _("Front desk")
    OBSERVER = "observer", _("Observer")
    ADMIN = "admin", _("Administrator")


class Capability(models.TextChoices):
    VIEW_CRISIS = "view_crisis", _("See the crisis: dashboard, log, decisions, actions, reports, clocks")
    WRITE_LOG = "write_log", _("Add entries and corrections to the running log")
    RECORD_DECISION = "record_decision", _("Record decisions")
    MANAGE_ACTIONS = "manage_actions", _("Create and update actions")
    EDIT_SITREP = "edit_sitrep", _("Draft situation reports")
    PUBLISH_SITREP = "publish_sitrep", _("Publish situation reports")
    MANAGE_OBLIGATIONS = "manage_obligations", _("Draft regulatory declarations and mark them sent")
    MANAGE_STAKEHOLDERS = "manage_stakeholders", _("Edit the stakeholder directory")
    EDIT_CRISIS = "edit_crisis", _("Edit the crisis: T0, phase, severity, scope")
    MANAGE_MEMBERS = "manage_members", _("Add members and set their roles")
    EXPORT = "export", _("Export the log and back up the crisis")


C = Capability
CELL = {Role.DIRECTOR, Role.COORDINATOR, Role.SCRIBE, Role.IT_LEAD, Role.DPO, Role.COMMUNICATION, Role.ADMIN}

# Front-desk agents work in their registers, not in the cell: the cell's content (attack details,
# decisions) stays with the cell. Observers (ARS liaison, auditors) read but never write.
MATRIX: dict[Capability, set[Role]] = {
    C.VIEW_CRISIS: CELL | {Role.OBSERVER},
    C.WRITE_LOG: CELL,
    C.RECORD_DECISION: {Role.DIRECTOR, Role.COORDINATOR, Role.SCRIBE},
    C.MANAGE_ACTIONS: {Role.DIRECTOR, Role.COORDINATOR, Role.SCRIBE, Role.IT_LEAD, Role.DPO, Role.COMMUNICATION},
    C.EDIT_SITREP: {Role.DIRECTOR, Role.COORDINATOR, Role.SCRIBE, Role.COMMUNICATION},
    C.PUBLISH_SITREP: {Role.DIRECTOR, Role.COORDINATOR},
    C.MANAGE_OBLIGATIONS: {Role.DIRECTOR, Role.COORDINATOR, Role.DPO, Role.IT_LEAD},
    C.MANAGE_STAKEHOLDERS: {Role.DIRECTOR, Role.COORDINATOR, Role.SCRIBE, Role.COMMUNICATION},
    C.EDIT_CRISIS: {Role.DIRECTOR, Role.COORDINATOR, Role.ADMIN},
    C.MANAGE_MEMBERS: {Role.DIRECTOR, Role.ADMIN},
    C.EXPORT: {Role.DIRECTOR, Role.COORDINATOR, Role.DPO, Role.ADMIN},
}


def role_can(role: str, capability: Capability) -> bool:
    return role in MATRIX[capability]


def capabilities_of(role: str) -> set[Capability]:
    return {capability for capability, roles in MATRIX.items() if role in roles}
