"""The demo CHU reproduces June 2023 in Rennes when the internet link is cut."""

from garde import impact
from garde.impact import Kind, State

NOT_UP_AFTER_INTERNET_CUT = ["messagerie", "imagerie-distance", "tele-expertise", "teleconsultation",
                             "rdv-en-ligne", "portail", "paiement-carte"]
STILL_UP = ["urgences", "samu", "consultations", "dossier-patient", "rdv-telephone", "imagerie", "laboratoire"]


def test_it_loads_the_demo_without_warnings(demo):
    assert demo.warnings == ()
    assert 100 <= len(demo.nodes) <= 150
    kinds = {n.kind for n in demo.nodes}
    assert kinds == set(Kind)


def test_it_gives_every_demo_service_what_the_status_board_needs(demo):
    for service in demo.services:
        assert service.criticality and service.max_downtime_minutes is not None
        if service.public:
            assert service.public_message, service.id


def test_it_cuts_the_internet_link_like_in_june_2023(demo):
    result = impact.simulate(demo, ["cut_link:l-internet"])
    for service in NOT_UP_AFTER_INTERNET_CUT:
        assert result.states[service] != State.UP, service
        assert demo[service].procedure, service
    for service in STILL_UP:
        assert result.states[service] == State.UP, result.explain(service)
    assert result.states["dpi"] == State.UP
    assert {s.node.id for s in result.procedures()} >= set(NOT_UP_AFTER_INTERNET_CUT)


def test_it_explains_teleconsultation_after_the_internet_cut(demo):
    result = impact.simulate(demo, ["cut_link:l-internet"])
    assert result.explain("teleconsultation") == (
        "Téléconsultation : DOWN — requiert « Plateforme de téléconsultation » (externe), "
        "joignable uniquement par le lien « Internet », qui est coupé")


def test_it_explains_card_payment_down_to_the_cut_link(demo):
    text = impact.simulate(demo, ["cut_link:l-internet"]).explain("paiement-carte")
    assert text.endswith("Liaison monétique (VPN bancaire) : DOWN — requiert « Internet » (lien), qui est coupé")


def test_it_runs_the_scenarios_stored_in_the_demo(demo):
    ransomware = impact.simulate(demo, demo.scenario("Rançongiciel sur le domaine").actions)
    assert ransomware.states["urgences"] == State.DOWN
    assert ransomware.states["samu"] == State.UP  # its own network, telephony and accounts
    assert ransomware.states["postes-soins"] == State.DOWN  # cached login cannot help without DNS
