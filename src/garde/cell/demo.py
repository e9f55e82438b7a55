"""Demo data: a fictional hospital, “CHU de Démo”, a few hours into a ransomware attack with exfiltration.

Passwords are generated at each run and printed by `garde demo`; none is written in the repository.
"""

import secrets
from datetime import timedelta
from importlib import resources

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from garde import impact
from garde.accounts.roles import Role
from garde.cell import journal, services
from garde.cell.models import Action, Crisis, Decision, LogEntry, SitRep
from garde.frontdesk.demo import load_frontdesk_demo
from garde.systems import store
from garde.systems.models import Scenario
from garde.systems.scenarios import apply_to_crisis

DEMO_TITLE = "Rançongiciel — CHU de Démo"
DEMO_MAP = resources.files("garde.impact") / "examples" / "chu_demo.yaml"
DEMO_SCENARIO = "Coupure d'Internet"

DEMO_USERS = [
    ("directrice", "Claire", "Martin", Role.DIRECTOR),
    ("coordinateur", "Yann", "Le Goff", Role.COORDINATOR),
    ("secretaire", "Sophie", "Bernard", Role.SCRIBE),
    ("rssi", "Karim", "Haddad", Role.IT_LEAD),
    ("dpo", "Anne", "Lefèvre", Role.DPO),
    ("communication", "Julien", "Morel", Role.COMMUNICATION),
    ("accueil", "Nadia", "Benali", Role.FRONTDESK),
    ("observateur", "Marc", "Dubois", Role.OBSERVER),
    ("admin", "Garde", "Admin", Role.ADMIN),
]

# (minutes after T0, kind, text, source)
DEMO_LOG = [
    (-20, "fact", "Plusieurs postes des urgences affichent une note de rançon ; fichiers partagés chiffrés.", "Cadre de santé des urgences"),
    (5, "information", "Appel de l'astreinte informatique : chiffrement en cours sur deux serveurs de fichiers.", "Astreinte DSI"),
    (15, "decision", "Décision d'isoler le SI d'Internet et des réseaux partenaires ; applications internes maintenues.", "Directrice"),
    (25, "action", "Lien Internet coupé au pare-feu principal à 14 h 25.", "RSSI"),
    (40, "communication", "Appel au CERT Santé : incident signalé, numéro de dossier attendu.", "RSSI"),
    (55, "fact", "Messagerie, téléconsultation et paiement par carte indisponibles.", "Cellule"),
    (70, "information", "Revendication sur un site de fuite : l'attaquant annonce 300 Go de données.", "Veille CERT Santé"),
    (90, "communication", "Message aux équipes : procédures dégradées, prise de rendez-vous par téléphone.", "Communication"),
    (120, "fact", "SAMU et urgences fonctionnent ; délestage des transferts d'imagerie vers le CH partenaire.", "Coordinateur"),
]


def _users(passwords: dict) -> dict:
    User = get_user_model()
    users = {}
    for username, first, last, role in DEMO_USERS:
        user, _created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@chu-demo.invalid"}
        )
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save()
        passwords[username] = password
        users[role] = user
    return users


@transaction.atomic
def load_demo() -> dict[str, tuple[str, str]]:
    """Create (or refresh the passwords of) the demo; returns {username: (role label, password)}."""
    passwords: dict[str, str] = {}
    users = _users(passwords)
    if not Crisis.objects.filter(title=DEMO_TITLE).exists():
        _crisis(users)
    return {username: (str(Role(role).label), passwords[username]) for username, _f, _l, role in DEMO_USERS}


def _crisis(users: dict) -> Crisis:
    t0 = timezone.now() - timedelta(hours=4, minutes=30)
    director = users[Role.DIRECTOR]
    crisis = services.open_crisis(
        Crisis(title=DEMO_TITLE, kind=Crisis.Kind.RANSOMWARE, t0=t0, severity=Crisis.Severity.CRITICAL,
               phase=Crisis.Phase.CONTAINMENT, personal_data=True, nis2=True),
        director, Role.DIRECTOR,
    )
    for role, user in users.items():
        if role != Role.DIRECTOR:
            services.set_membership(crisis, user, role, director)
    scribe = users[Role.SCRIBE]
    for minutes, kind, text, source in DEMO_LOG:
        journal.record(crisis, text, kind=kind, author=scribe, occurred_at=t0 + timedelta(minutes=minutes), source=source)
    services.record_decision(
        Decision(crisis=crisis, title="Isoler le SI d'Internet et des réseaux partenaires",
                 rationale="Stopper la propagation et l'exfiltration ; les applications internes restent disponibles.",
                 decided_by="Claire Martin, directrice", decided_at=t0 + timedelta(minutes=15)),
        scribe,
    )
    services.record_decision(
        Decision(crisis=crisis, title="Déclencher le plan blanc",
                 rationale="Réorganiser la prise en charge sans messagerie ni imagerie à distance.",
                 decided_by="Claire Martin, directrice", decided_at=t0 + timedelta(minutes=45)),
        scribe,
    )
    services.create_first_hour_checklist(crisis, users[Role.COORDINATOR])
    for action in Action.objects.filter(crisis=crisis).order_by("due_at")[:4]:
        services.set_action_status(action, Action.Status.DONE, users[Role.COORDINATOR])
    journal.record(crisis, "Correction : la coupure Internet a eu lieu à 14 h 20, pas 14 h 25.",
                   kind=LogEntry.Kind.FACT, author=scribe,
                   corrects=LogEntry.objects.get(crisis=crisis, seq=_seq_of(crisis, "Lien Internet coupé")))
    sitrep = SitRep.objects.create(
        crisis=crisis, created_by=users[Role.COORDINATOR],
        situation="Rançongiciel sur le SI ; SI isolé d'Internet. Exfiltration revendiquée, en cours de qualification.",
        impacts="Messagerie, téléconsultation, télé-expertise, accès en ligne au dossier et paiement par carte indisponibles. "
                "Urgences, SAMU et consultations physiques maintenues.",
        actions_under_way="Qualification de l'exfiltration ; préservation des preuves ; reconstruction de l'annuaire.",
        needs="Renfort d'un prestataire de réponse à incident ; appui de l'ARS pour la communication.",
        next_point_at=timezone.now() + timedelta(hours=2),
    )
    services.publish_sitrep(sitrep, director)
    load_frontdesk_demo(crisis, users[Role.FRONTDESK])
    _map_and_board(crisis, users[Role.IT_LEAD])
    return crisis


def _map_and_board(crisis: Crisis, it_lead) -> None:
    """The demo hospital's IS map, with the June 2023 decision applied: the internet link is cut."""
    if store.current_version() is None:
        store.save(impact.load_map(DEMO_MAP), source="demo", user=it_lead)
    loaded = store.load()
    scenario = Scenario.objects.get(name=DEMO_SCENARIO)
    apply_to_crisis(crisis, scenario, loaded, impact.simulate(loaded.map, scenario.actions), it_lead)


def _seq_of(crisis: Crisis, text_start: str) -> int:
    return LogEntry.objects.filter(crisis=crisis, text__startswith=text_start).values_list("seq", flat=True).first()
