"""The CNIL notification (GDPR art. 33) filled from the breach file, and its versions as sent.

The cell's CNIL obligations (rules "cnil-initial" and "cnil-complement") hold the working draft; the breach
file writes into it every field it knows (categories and numbers come from the imported scans), and keeps
each notification as sent as a frozen Notification with the time sent and the reference received.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from garde.breach import stats
from garde.breach.models import Breach, Notification
from garde.cell import journal, services
from garde.cell.drafts import CNIL_FIELDS, initial_draft
from garde.cell.models import LogEntry, Membership, Obligation
from garde.lib.hashing import canonical_json, sha256_bytes

INITIAL_RULE, COMPLEMENT_RULE = "cnil-initial", "cnil-complement"

# The CNIL's form is in French: the text Garde proposes for it is written in French, like cell.drafts.
PERSON_CATEGORY_FR = {
    "identity": "identité (nom, prénom, date de naissance, identifiants hospitaliers)",
    "national_identifier": "numéro de sécurité sociale (NIR)",
    "contact": "coordonnées (adresse, téléphone, courriel)",
    "health": "données de santé (diagnostics, comptes rendus)",
    "financial": "données bancaires (IBAN, carte de paiement)",
    "credentials": "mots de passe et secrets d'authentification",
}


class NotificationError(Exception):
    """The notification cannot be drafted or frozen; the message says why."""


def obligation_for(breach: Breach, kind: str) -> Obligation:
    key = INITIAL_RULE if kind == Notification.Kind.INITIAL else COMPLEMENT_RULE
    obligation = Obligation.objects.select_related("rule", "crisis").filter(crisis=breach.crisis, rule__key=key).first()
    if obligation is None:
        raise NotificationError(_(
            "The crisis has no CNIL obligation: mark the crisis as involving personal data (edit the crisis)."
        ))
    return obligation


def next_kind(breach: Breach) -> str:
    sent_initial = breach.notifications.filter(kind=Notification.Kind.INITIAL).exists()
    return Notification.Kind.COMPLEMENT if sent_initial else Notification.Kind.INITIAL


def _dpo(breach: Breach) -> str:
    membership = Membership.objects.filter(crisis=breach.crisis, role="dpo").select_related("user").first()
    if membership is None:
        return ""
    user = membership.user
    return ", ".join(part for part in (user.get_full_name() or user.get_username(), user.email) if part)


def proposal(breach: Breach) -> dict[str, str]:
    """The art. 33 fields as the breach file knows them."""
    column = stats.total(breach)
    when = lambda moment: formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else "—"  # noqa: E731
    nature = ", ".join(breach.nature) or "—"
    perimeters = ", ".join(p.name for p in breach.perimeters.filter(imports__status="done").distinct())
    lines = [
        f"{breach.title}. Nature : {nature}.",
        f"Début : {when(breach.started_at)} ; découverte : {when(breach.discovered_at)} ; "
        f"prise de connaissance (T0) : {when(breach.t0)}.",
    ]
    if breach.discovery:
        lines.append(f"Découverte : {breach.discovery}")
    if breach.circumstances:
        lines.append(f"Circonstances : {breach.circumstances}")
    if breach.systems:
        lines.append(f"Systèmes concernés : {breach.systems}")
    if perimeters:
        lines.append(f"Périmètres de données concernés : {perimeters}.")
    exposed = [c for c, n in column.persons_by_category.items() if n]
    fields = {
        "nature": "\n".join(lines),
        "person_categories": "Patients et autres personnes dont les données figurent dans les fichiers divulgués "
                             f"(périmètres : {perimeters or '—'}).",
        "person_count": f"Environ {column.persons} personnes (après dédoublonnage sur NIR, IPP, nom et date de "
                        "naissance ; l'analyse se poursuit).",
        "record_categories": "\n".join(
            f"- {PERSON_CATEGORY_FR[c]} : {column.persons_by_category[c]} personnes, "
            f"{column.records_by_category[c]} enregistrements" for c in exposed
        ) or "—",
        "record_count": f"Environ {column.records} enregistrements, dans {column.files} fichiers.",
        "consequences": breach.consequences,
        "measures": breach.measures,
    }
    dpo = _dpo(breach)
    if dpo:
        fields["dpo_contact"] = dpo
    if timezone.now() > breach.t0 + timedelta(hours=72):
        fields["delay_reasons"] = breach.delay_reasons or "À compléter : la notification intervient plus de 72 heures après T0."
    elif breach.delay_reasons:
        fields["delay_reasons"] = breach.delay_reasons
    return {key: value for key, value in fields.items() if value}


@transaction.atomic
def fill(breach: Breach, user) -> Obligation:
    """Write the breach file into the draft of the next CNIL notification (fields the file does not know
    keep what the cell wrote)."""
    obligation = obligation_for(breach, next_kind(breach))
    draft = dict(obligation.draft)
    draft.update(proposal(breach))
    services.save_obligation_draft(obligation, draft, user)
    journal.record(breach.crisis, _("Breach file %(n)d: the CNIL draft (%(title)s) was filled from the file.")
                   % {"n": breach.number, "title": obligation.rule.title}, author=user)
    return obligation


def current_fields(breach: Breach) -> tuple[Obligation, list[tuple[str, str, str]]]:
    obligation = obligation_for(breach, next_kind(breach))
    draft = initial_draft(obligation)
    return obligation, [(key, str(label), draft.get(key, "")) for key, label in CNIL_FIELDS]


@transaction.atomic
def freeze(breach: Breach, sent_at, channel: str, reference: str, user) -> Notification:
    """Keep the notification as sent, and mark the cell's obligation sent (which writes the running log)."""
    kind = next_kind(breach)
    obligation = obligation_for(breach, kind)
    draft = initial_draft(obligation)
    fields = {key: draft.get(key, "") for key, _label in CNIL_FIELDS}
    last = breach.notifications.order_by("-number").first()
    notification = Notification.objects.create(
        breach=breach, kind=kind, number=(last.number + 1) if last else 1, fields=fields,
        content_sha256=sha256_bytes(canonical_json(fields)), sent_at=sent_at, channel=channel,
        reference=reference, frozen_by=user,
    )
    services.mark_obligation_sent(obligation, sent_at, channel, reference, user)
    if breach.status == Breach.Status.ANALYSIS:
        breach.status = Breach.Status.NOTIFIED
        breach.save(update_fields=["status"])
    journal.record(
        breach.crisis,
        _("Breach file %(n)d: %(kind)s no. %(v)d frozen (SHA-256 %(hash)s).")
        % {"n": breach.number, "kind": notification.get_kind_display(), "v": notification.number,
           "hash": notification.content_sha256},
        kind=LogEntry.Kind.COMMUNICATION, author=user, occurred_at=sent_at,
    )
    return notification


def as_text(breach: Breach, fields: dict, heading: str) -> str:
    """Field by field, ready to paste into the CNIL's online form."""
    blocks = [f"{heading} — {breach.title}"]
    for key, label in CNIL_FIELDS:
        blocks.append(f"## {label}\n{fields.get(key) or '—'}")
    return "\n\n".join(blocks) + "\n"
