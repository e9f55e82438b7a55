"""Drafts of regulatory declarations, pre-filled from what the crisis already knows.

A draft is a dict of named fields; the cell edits each field and the text export lists them in the
order of the recipient's form, so they can be pasted one by one.
"""

from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from garde.cell.models import Action, Crisis, Membership, Obligation, SitRep

CNIL_FIELDS = [
    ("nature", _("Nature of the breach (confidentiality, integrity, availability) and circumstances")),
    ("person_categories", _("Categories of persons concerned")),
    ("person_count", _("Approximate number of persons concerned")),
    ("record_categories", _("Categories of personal data records concerned")),
    ("record_count", _("Approximate number of records concerned")),
    ("dpo_contact", _("Name and contact details of the data protection officer")),
    ("consequences", _("Likely consequences of the breach")),
    ("measures", _("Measures taken or proposed to address the breach and mitigate its effects")),
    ("delay_reasons", _("Reasons for notifying after 72 hours (if so)")),
]

INCIDENT_FIELDS = [
    ("summary", _("Summary of the incident")),
    ("detected_at", _("Time the hospital became aware (T0)")),
    ("impacts", _("Impact on care and on systems")),
    ("measures", _("Measures taken")),
    ("contact", _("Contact for this declaration")),
]

COMPLAINT_FIELDS = [
    ("facts", _("Facts")),
    ("detected_at", _("Time the hospital became aware (T0)")),
    ("damage", _("Damage observed")),
    ("evidence", _("Evidence preserved")),
    ("contact", _("Person filing the complaint")),
]

FIELDS_BY_KIND = {"cnil": CNIL_FIELDS, "incident": INCIDENT_FIELDS, "complaint": COMPLAINT_FIELDS}


def fields_for(obligation: Obligation) -> list[tuple[str, str]]:
    return FIELDS_BY_KIND.get(obligation.rule.draft_kind, INCIDENT_FIELDS)


def initial_draft(obligation: Obligation) -> dict[str, str]:
    """The draft as Garde proposes it; fields the cell already wrote are kept as written."""
    crisis = obligation.crisis
    facts = _known_facts(crisis)
    proposals = {
        "cnil": _cnil_proposal,
        "complaint": _complaint_proposal,
    }.get(obligation.rule.draft_kind, _incident_proposal)(crisis, facts, obligation)
    return {key: obligation.draft.get(key) or proposals.get(key, "") for key, _label in fields_for(obligation)}


def _known_facts(crisis: Crisis) -> dict[str, str]:
    sitrep = SitRep.objects.filter(crisis=crisis, status=SitRep.Status.PUBLISHED).order_by("-number").first()
    done = Action.objects.filter(crisis=crisis, status=Action.Status.DONE).order_by("done_at")
    return {
        "t0": formats.date_format(timezone.localtime(crisis.t0), "DATETIME_FORMAT"),
        "summary": f"{crisis.title} ({crisis.get_kind_display()})",
        "impacts": sitrep.impacts if sitrep else "",
        "measures": "\n".join(f"- {action.title}" for action in done),
        "director": _member_name(crisis, "director"),
        "dpo": _member_name(crisis, "dpo"),
    }


def _member_name(crisis: Crisis, role: str) -> str:
    membership = Membership.objects.filter(crisis=crisis, role=role).select_related("user").first()
    if membership is None:
        return ""
    user = membership.user
    details = [user.get_full_name() or user.get_username(), user.email]
    return ", ".join(part for part in details if part)


def _incident_proposal(crisis, facts, obligation):
    return {
        "summary": facts["summary"],
        "detected_at": facts["t0"],
        "impacts": facts["impacts"],
        "measures": facts["measures"],
        "contact": facts["director"],
    }


def _complaint_proposal(crisis, facts, obligation):
    return {
        "facts": facts["summary"],
        "detected_at": facts["t0"],
        "damage": facts["impacts"],
        "evidence": "",
        "contact": facts["director"],
    }


def _cnil_proposal(crisis, facts, obligation):
    nature = {
        Crisis.Kind.RANSOMWARE: "Disponibilité et confidentialité : rançongiciel, exfiltration possible.",
        Crisis.Kind.EXFILTRATION: "Confidentialité : exfiltration de données.",
        Crisis.Kind.UNAVAILABILITY: "Disponibilité : systèmes indisponibles.",
    }.get(crisis.kind, "")
    proposal = {
        "nature": f"{facts['summary']}. {nature}".strip(),
        "dpo_contact": facts["dpo"],
        "measures": facts["measures"],
        "consequences": "",
    }
    due = obligation.due_at
    if due is not None and timezone.now() > due:
        proposal["delay_reasons"] = "À compléter : la notification intervient plus de 72 heures après T0."
    return proposal


def as_text(obligation: Obligation) -> str:
    """The draft as plain text, field by field, ready to paste into the recipient's online form."""
    draft = initial_draft(obligation)
    blocks = [f"{obligation.rule.title} — {obligation.crisis.title}"]
    for key, label in fields_for(obligation):
        blocks.append(f"## {label}\n{draft.get(key) or '—'}")
    return "\n\n".join(blocks) + "\n"
