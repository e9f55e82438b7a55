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
    USE_FRONTDESK = "use_frontdesk", _("Use the front-desk registers: patients, appointments, documents, payments")
    VIEW_FRONTDESK_COUNTS = "view_frontdesk_counts", _("See the front-desk activity as counts, without patient identity")
    CONFIGURE_FRONTDESK = "configure_frontdesk", _("Set up sites, departments, practitioners and cash desks")
    EXPORT_FRONTDESK = "export_frontdesk", _("Export the front-desk registers and mark records as re-entered")
    VIEW_SYSTEMS = "view_systems", _("See the IS map, scenarios and their results, the analysis and restoration plans")
    MANAGE_MAP = "manage_map", _("Import, edit and export the IS map")
    RUN_SCENARIO = "run_scenario", _("Prepare containment scenarios")
    APPLY_SCENARIO = "apply_scenario", _("Apply a scenario to the crisis and its status board")
    PLAN_RESTORATION = "plan_restoration", _("Compute restoration plans, mark tasks done or late, send them to actions")
    VIEW_BOARD = "view_board", _("See the status board, degraded-mode procedures and printed notices")
    MANAGE_BOARD = "manage_board", _("Set service states and messages on the status board")
    VIEW_BREACH = "view_breach", _("See the breach files: counts by category and perimeter, risk, CNIL notifications, register")
    MANAGE_BREACH = "manage_breach", _("Edit breach files, import scans, decide the risk, fill and freeze CNIL notifications")
    VIEW_BREACH_PERSONS = "view_breach_persons", _("See the persons of a breach and their exposed data, generate letters (logged)")
    PUBLISH_BREACH_NOTICE = "publish_breach_notice", _("Publish a breach's public notice on the public status page, or withdraw it")
    VIEW_BREACH_REGISTER = "view_breach_register", _("See the hospital-wide breach register, every crisis included (logged)")


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
    # Patient identity stays with the agents who serve the patients; the cell steers with counts and
    # exports for re-integration (each export is in the access log); observers see counts only.
    C.USE_FRONTDESK: {Role.FRONTDESK},
    C.VIEW_FRONTDESK_COUNTS: CELL | {Role.FRONTDESK, Role.OBSERVER},
    C.CONFIGURE_FRONTDESK: {Role.DIRECTOR, Role.COORDINATOR, Role.ADMIN},
    C.EXPORT_FRONTDESK: {Role.DIRECTOR, Role.COORDINATOR, Role.DPO, Role.ADMIN},
    # The map names servers and weaknesses: it stays inside the cell. Applying a scenario changes what
    # staff and the public are told, so it is a decision of those who steer the crisis.
    C.VIEW_SYSTEMS: CELL | {Role.OBSERVER},
    C.MANAGE_MAP: {Role.IT_LEAD, Role.ADMIN},
    C.RUN_SCENARIO: {Role.DIRECTOR, Role.COORDINATOR, Role.IT_LEAD},
    C.APPLY_SCENARIO: {Role.DIRECTOR, Role.COORDINATOR, Role.IT_LEAD},
    C.PLAN_RESTORATION: {Role.DIRECTOR, Role.COORDINATOR, Role.IT_LEAD},
    # Front-desk agents work from the board: what is down and what to do instead.
    C.VIEW_BOARD: CELL | {Role.FRONTDESK, Role.OBSERVER},
    C.MANAGE_BOARD: {Role.DIRECTOR, Role.COORDINATOR, Role.IT_LEAD, Role.COMMUNICATION},
    # A breach file's counts steer the cell; the persons and what leaked about each stay with the DPO
    # and the director, and every look at them is in the access log with its reason.
    C.VIEW_BREACH: CELL | {Role.OBSERVER},
    C.MANAGE_BREACH: {Role.DIRECTOR, Role.DPO},
    C.VIEW_BREACH_PERSONS: {Role.DIRECTOR, Role.DPO},
    # The DPO and the director own the notice's text (manage_breach); communication, who speaks to the
    # public, may also put it online or take it down. Other roles that set public messages do not.
    C.PUBLISH_BREACH_NOTICE: {Role.DIRECTOR, Role.DPO, Role.COMMUNICATION},
    # The register of every breach of the hospital (art. 33(5)) crosses crises: holding this capability in
    # any one crisis opens it.
    C.VIEW_BREACH_REGISTER: {Role.DIRECTOR, Role.DPO},
}


def role_can(role: str, capability: Capability) -> bool:
    return role in MATRIX[capability]


def capabilities_of(role: str) -> set[Capability]:
    return {capability for capability, roles in MATRIX.items() if role in roles}
