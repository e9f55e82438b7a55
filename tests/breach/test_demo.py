"""`garde demo` gives a usable breach file: a key in the data directory (owner-only, used only when no key is
configured, never in a backup), persons imported from a scan of a synthetic dump, and the DPO's decision."""

import tarfile

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from garde.breach import crypto
from garde.breach.models import Breach, Person
from garde.cell.backup import write_backup
from garde.cell.demo import DEMO_TITLE, load_demo


@pytest.fixture
def demo(db, monkeypatch, settings):
    monkeypatch.delenv("GARDE_BREACH_KEY")
    load_demo()
    return Breach.objects.get(crisis__title=DEMO_TITLE)


def test_it_writes_an_owner_only_key_into_the_data_directory(demo, settings):
    key_file = settings.DATA_DIR / "breach.key"
    assert oct(key_file.stat().st_mode)[-3:] == "600"
    assert len(key_file.read_text().strip()) >= crypto.MIN_KEY_LENGTH


def test_it_imports_persons_with_a_risk_decision(demo):
    persons = Person.objects.filter(breach=demo)
    assert 30 <= persons.count() <= 120
    assert persons.filter(health=True).exists() and persons.filter(national_identifier=True).exists()
    assert persons.exclude(address_token="").exists()
    assert demo.risk == Breach.Risk.HIGH and demo.risk_reasons and demo.risk_decided_by.username == "dpo"
    assert demo.imports.get().status == "done"


def test_it_lets_the_demo_dpo_see_persons_counts_and_charts(demo, client):
    client.force_login(get_user_model().objects.get(username="dpo"))
    detail = client.get(reverse("breach:detail", args=[demo.crisis.pk, demo.pk]))
    assert detail.status_code == 200 and b"<svg" in detail.content
    persons_url = reverse("breach:persons", args=[demo.crisis.pk, demo.pk])
    client.post(
        reverse("breach:reason", args=[demo.crisis.pk, demo.pk]),
        {"reason": "démonstration", "next": persons_url},
    )
    response = client.get(persons_url)
    assert response.status_code == 200
    first = Person.objects.filter(breach=demo).order_by("reference").first()
    assert first.reference in response.content.decode()


def test_it_keeps_its_key_when_run_again(demo, settings):
    key = (settings.DATA_DIR / "breach.key").read_text()
    load_demo()
    assert (settings.DATA_DIR / "breach.key").read_text() == key
    assert Breach.objects.filter(crisis__title=DEMO_TITLE).count() == 1


def test_it_prefers_a_configured_key_to_the_data_directory_file(demo, monkeypatch, tmp_path):
    other = tmp_path / "production.key"
    other.write_text("another-key-of-at-least-thirty-two-characters")
    monkeypatch.setenv("GARDE_BREACH_KEY_FILE", str(other))
    person = Person.objects.filter(breach=demo).exclude(identity_token="").first()
    with pytest.raises(crypto.BreachKeyError):
        crypto.decrypt(person.identity_token)


def test_it_leaves_the_key_out_of_backups(demo, settings, tmp_path):
    key = (settings.DATA_DIR / "breach.key").read_bytes().strip()
    archive = tmp_path / "demo.tar.gz"
    write_backup(demo.crisis, archive)
    with tarfile.open(archive) as opened:
        names = opened.getnames()
        contents = [opened.extractfile(member).read() for member in opened.getmembers()]
    assert not any("breach.key" in name for name in names)
    assert not any(key in content for content in contents)


def test_it_uses_no_data_directory_key_when_there_is_none(db, monkeypatch):
    monkeypatch.delenv("GARDE_BREACH_KEY")
    with pytest.raises(crypto.BreachKeyError, match="not set"):
        crypto.check_key()
