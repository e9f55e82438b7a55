"""Reference data every installation starts with; the hospital edits it afterwards in the administration.

Kept as plain data (French, the language of the people who act on it) so the data migration and the
tests read the same source.
"""

OBLIGATION_RULES = [
    {
        "key": "cert-sante",
        "order": 10,
        "title": "Signalement d'incident de sécurité à CERT Santé / ARS",
        "authority": "CERT Santé (ANS) et ARS",
        "legal_basis": "Code de la santé publique, art. L.1111-8-2 ; décret n° 2016-1214",
        "deadline_hours": 0,
        "applies_when": "always",
        "default_owner_role": "it_lead",
        "channel_hint": "Portail de signalement des événements sanitaires indésirables ; téléphone CERT Santé",
        "draft_kind": "incident",
    },
    {
        "key": "cnil-initial",
        "order": 20,
        "title": "Notification de violation de données à la CNIL (initiale)",
        "authority": "CNIL",
        "legal_basis": "RGPD, art. 33",
        "deadline_hours": 72,
        "applies_when": "personal_data",
        "default_owner_role": "dpo",
        "channel_hint": "Téléservice de notification de violation de la CNIL",
        "draft_kind": "cnil",
    },
    {
        "key": "cnil-complement",
        "order": 25,
        "title": "Notification complémentaire à la CNIL",
        "authority": "CNIL",
        "legal_basis": "RGPD, art. 33(4)",
        "deadline_hours": None,
        "applies_when": "personal_data",
        "default_owner_role": "dpo",
        "channel_hint": "Téléservice de la CNIL, en complément de la notification initiale",
        "draft_kind": "cnil",
    },
    {
        "key": "police",
        "order": 30,
        "title": "Dépôt de plainte (police ou gendarmerie)",
        "authority": "Police nationale, gendarmerie ou procureur de la République",
        "legal_basis": "Code des assurances, art. L.12-10-1 (condition d'indemnisation par l'assureur)",
        "deadline_hours": 72,
        "applies_when": "always",
        "default_owner_role": "director",
        "channel_hint": "Plainte au commissariat, à la brigade ou par écrit au procureur",
        "draft_kind": "complaint",
    },
    {
        "key": "nis2-early-warning",
        "order": 40,
        "title": "NIS2 : alerte précoce",
        "authority": "ANSSI (CERT-FR)",
        "legal_basis": "Directive (UE) 2022/2555, art. 23(4)(a)",
        "deadline_hours": 24,
        "applies_when": "nis2",
        "default_owner_role": "it_lead",
        "channel_hint": "Portail de déclaration de l'ANSSI",
        "draft_kind": "incident",
    },
    {
        "key": "nis2-notification",
        "order": 41,
        "title": "NIS2 : notification d'incident",
        "authority": "ANSSI (CERT-FR)",
        "legal_basis": "Directive (UE) 2022/2555, art. 23(4)(b)",
        "deadline_hours": 72,
        "applies_when": "nis2",
        "default_owner_role": "it_lead",
        "channel_hint": "Portail de déclaration de l'ANSSI",
        "draft_kind": "incident",
    },
    {
        "key": "nis2-final-report",
        "order": 42,
        "title": "NIS2 : rapport final",
        "authority": "ANSSI (CERT-FR)",
        "legal_basis": "Directive (UE) 2022/2555, art. 23(4)(d)",
        "deadline_hours": 30 * 24,
        "applies_when": "nis2",
        "default_owner_role": "it_lead",
        "channel_hint": "Portail de déclaration de l'ANSSI",
        "draft_kind": "incident",
    },
    {
        "key": "insurer",
        "order": 50,
        "title": "Déclaration de sinistre à l'assureur cyber",
        "authority": "Assureur cyber",
        "legal_basis": "Contrat d'assurance (délai de déclaration à vérifier dans la police)",
        "deadline_hours": None,
        "applies_when": "always",
        "default_owner_role": "director",
        "channel_hint": "Numéro d'assistance du contrat",
        "draft_kind": "incident",
    },
]

FIRST_HOUR_CHECKLIST = [
    ("Ouvrir la main courante et nommer un secrétaire de séance", 10, 1),
    ("Isoler les systèmes touchés (couper les liens Internet et partenaires si nécessaire)", 30, 1),
    ("Préserver les preuves : ne pas éteindre ni réinstaller, conserver journaux et copies", 30, 1),
    ("Signaler l'incident à CERT Santé / ARS", 60, 1),
    ("Déposer plainte (police ou gendarmerie)", 24 * 60, 2),
    ("Déclarer le sinistre à l'assureur cyber", 24 * 60, 2),
    ("Qualifier la violation de données personnelles pour la CNIL (DPO)", 12 * 60, 2),
    ("Activer le plan blanc si la prise en charge des patients est menacée", 60, 1),
    ("Informer le personnel : consignes de fonctionnement en mode dégradé", 60, 2),
    ("Informer les patients et le public : ce qui fonctionne, quoi faire à la place", 2 * 60, 2),
]

STAKEHOLDER_KINDS = [
    "ars", "cert_sante", "anssi", "cnil", "police", "insurer", "partner_hospital", "samu", "prefecture", "press",
]


def load(apps):
    """Create the reference data that is not there yet (idempotent: safe to run again)."""
    ObligationRule = apps.get_model("cell", "ObligationRule")
    ActionTemplate = apps.get_model("cell", "ActionTemplate")
    Stakeholder = apps.get_model("cell", "Stakeholder")
    for rule in OBLIGATION_RULES:
        ObligationRule.objects.get_or_create(key=rule["key"], defaults=rule)
    if not ActionTemplate.objects.exists():
        for order, (title, minutes, priority) in enumerate(FIRST_HOUR_CHECKLIST, start=1):
            ActionTemplate.objects.create(
                order=order * 10, title=title, due_after_minutes=minutes, priority=priority
            )
    if not Stakeholder.objects.exists():
        for kind in STAKEHOLDER_KINDS:
            Stakeholder.objects.create(kind=kind)
