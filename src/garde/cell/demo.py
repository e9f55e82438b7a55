"""Demo data: a fictional hospital, “CHU de Démo”, a few hours into a ransomware attack with exfiltration.

Passwords are generated at each run and printed by `garde demo`; none is written in the repository.
The breach file is imported from a scan of a small synthetic dump (nobody in it is real), encrypted with a
breach key the demo writes into the data directory when no key is configured.
"""

import os
import secrets
import tempfile
from datetime import timedelta
from importlib import resources
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from garde import impact
from garde.accounts.roles import Role
from garde.breach import crypto, importer
from garde.breach.models import Breach, Perimeter, ScanImport
from garde.cell import journal, services
from garde.cell.models import Action, Crisis, Decision, LogEntry, SitRep
from garde.frontdesk.demo import load_frontdesk_demo
from garde.scanner import ScanSettings, scan
from garde.scanner.corpus import write_corpus
from garde.systems import store
from garde.systems.models import Scenario
from garde.systems.scenarios import apply_to_crisis

DEMO_TITLE = "Rançongiciel — CHU de Démo"
DEMO_MAP = resources.files("garde.impact") / "examples" / "chu_demo.yaml"
DEMO_SCENARIO = "Coupure d'Internet"
# Small enough for `garde demo` to stay quick (a few seconds of scanning), large enough for charts.
DEMO_BREACH_PERSONS = 50
DEMO_CORPUS_SEED = 2023

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
    crisis = Crisis.objects.filter(title=DEMO_TITLE).first() or _crisis(users)
    if not crisis.breaches.exists():
        _breach(crisis, users)
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


def _breach_key() -> None:
    """A key for the demo's encrypted names and addresses, unless the operator configured one. It goes into
    the data directory (owner-only); a production key lives elsewhere, see docs/deploy.md."""
    if os.environ.get("GARDE_BREACH_KEY") or os.environ.get("GARDE_BREACH_KEY_FILE"):
        return
    path = crypto.data_dir_key_file()
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(secrets.token_urlsafe(32) + "\n")


def _breach(crisis: Crisis, users: dict) -> Breach:
    """The exfiltration of the June 2023 story: a scan of a synthetic dump imported, and the DPO's decision."""
    _breach_key()
    dpo = users[Role.DPO]
    last = Breach.objects.order_by("-number").values_list("number", flat=True).first() or 0
    breach = Breach.objects.create(
        crisis=crisis, number=last + 1, title="Exfiltration du serveur de fichiers partagés", created_by=dpo,
        t0=crisis.t0, started_at=crisis.t0 - timedelta(days=3), discovered_at=crisis.t0 + timedelta(minutes=70),
        discovery="Revendication sur le site de fuite de l'attaquant, échantillon publié.",
        systems="Serveur de fichiers partagés (exports de l'accueil, courriers, interfaces HL7).",
        circumstances="Copie de partages réseau avant le chiffrement, par un compte de service compromis.",
    )
    journal.record(crisis, f"Dossier de violation {breach.number} ouvert : {breach.title}.",
                   kind=LogEntry.Kind.FACT, author=dpo)
    perimeter = Perimeter.objects.create(breach=breach, name="Serveur de fichiers partagés")
    with tempfile.TemporaryDirectory(prefix="garde-demo-") as work:
        work = Path(work)
        write_corpus(work / "corpus", DEMO_BREACH_PERSONS, DEMO_CORPUS_SEED)
        # Rules only (no spaCy model to load): the demo is about the breach file, not the scanner's recall.
        scan([work / "corpus" / "dump"], work / "scan", ScanSettings(reveal=True, ner=False))
        imported = importer.run(ScanImport.objects.create(
            breach=breach, perimeter=perimeter, folder=str(work / "scan"), uploaded=True, created_by=dpo))
    if imported.status != ScanImport.Status.DONE:
        raise RuntimeError(f"demo breach import refused: {imported.error}")
    breach.risk, breach.inform = Breach.Risk.HIGH, Breach.Inform.LETTERS
    breach.risk_reasons = "Données de santé, NIR et coordonnées bancaires de patients exposés et revendiqués."
    breach.consequences = "Hameçonnage ciblé, usurpation d'identité, prélèvements frauduleux."
    breach.measures = "SI isolé d'Internet, comptes de service réinitialisés, plainte déposée, veille sur le site de fuite."
    breach.contact = "Délégué à la protection des données, dpo@chu-demo.invalid, 02 99 00 00 00."
    breach.risk_decided_by, breach.risk_decided_at = dpo, timezone.now()
    breach.save()
    journal.record(crisis, f"Dossier de violation {breach.number} — risque élevé ; personnes informées par courrier.",
                   kind=LogEntry.Kind.DECISION, author=dpo)
    return breach


def _seq_of(crisis: Crisis, text_start: str) -> int:
    return LogEntry.objects.filter(crisis=crisis, text__startswith=text_start).values_list("seq", flat=True).first()
