"""The ledger: what the walk met, on disk, read back in walk order whatever the order of arrival."""

import pytest

from garde.scanner.ledger import Ledger, walk_key


@pytest.fixture
def ledger(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    yield ledger
    ledger.close()


def test_walk_keys_sort_as_the_walk_does():
    keys = [(3,), (1,), (3, 1), (12,), (3, 1, 2), (2,), (3, 2), (4,)]
    assert sorted(keys, key=walk_key) == sorted(keys)


def test_the_first_occurrence_in_walk_order_is_the_scanned_one(ledger):
    # The attachment (1, 1) is walked before (2,) but arrives after it: its file's scan ended late.
    ledger.add_occurrence((1,), "mail.eml", "m", 10, 0, status="scanned")
    ledger.add_content("m")
    ledger.add_occurrence((2,), "copy.pdf", "a", 5, 0, status="scanned")
    ledger.add_content("a")
    ledger.add_occurrence((1, 1), "mail.eml!/report.pdf", "a", 5, 1, status="duplicate")
    ledger.set_outcome("a", {"records": 2, "findings": 3, "extractor": "pdf"})
    ledger.finish()

    rows = [(o["path"], o["status"], o.get("duplicate_of")) for o in ledger.occurrences()]

    assert rows == [
        ("mail.eml", "scanned", None),
        ("mail.eml!/report.pdf", "scanned", None),
        ("copy.pdf", "duplicate", "mail.eml!/report.pdf"),
    ]
    assert [(sha, path, copies) for sha, path, copies, _ in ledger.contents()] == [
        ("m", "mail.eml", 1),
        ("a", "mail.eml!/report.pdf", 2),
    ]


def test_an_opened_archive_has_no_outcome_and_no_findings(ledger):
    ledger.add_occurrence((1,), "dump.zip", "z", 100, 0, status="opened", type_="archive/zip")
    ledger.add_occurrence((1, 1), "dump.zip!/a.csv", "c", 50, 1, status="scanned")
    ledger.add_content("c")
    ledger.set_outcome("c", {"records": 4, "findings": 7, "extractor": "csv"})
    ledger.finish()
    ledger.set_findings("c", 7)

    archive, member = ledger.occurrences()

    assert (archive["status"], archive["type"], archive["outcome"], archive["findings"]) == ("opened", "archive/zip", {}, 0)
    assert (member["status"], member["outcome"]["records"], member["findings"]) == ("scanned", 4, 7)
    assert ledger.counts() == (2, 1)


def test_it_lists_only_the_contents_with_findings_when_asked(ledger):
    for number, sha in enumerate("abc", start=1):
        ledger.add_occurrence((number,), f"{sha}.txt", sha, 1, 0, status="scanned")
        ledger.add_content(sha)
    ledger.finish()
    for sha, _path, _copies, _outcome in ledger.contents():  # written while reading, as the report does
        if sha != "b":
            ledger.set_findings(sha, 1)

    assert [sha for sha, *_ in ledger.contents(with_findings=True)] == ["a", "c"]


def test_it_answers_whether_a_content_was_met(ledger):
    assert not ledger.knows("a")
    ledger.add_content("a")
    assert ledger.knows("a")


def test_it_gives_the_issues_in_walk_order(ledger):
    ledger.add_issue((2,), "b.zip", "encrypted", "password-protected archive")
    ledger.add_issue((1, 3), "a.zip!/x", "error", "path outside the archive")
    ledger.finish()

    assert [issue["path"] for issue in ledger.issues()] == ["a.zip!/x", "b.zip"]


def test_it_holds_many_files_across_transactions(ledger):
    for number in range(12_000):  # more than one transaction of writes
        ledger.add_occurrence((number,), f"f{number}.txt", f"{number % 7_000}", 1, 0, status="scanned" if number < 7_000 else "duplicate")
        if number < 7_000:
            ledger.add_content(f"{number}")
    ledger.finish()

    assert ledger.counts() == (12_000, 7_000)
    statuses = [o["status"] for o in ledger.occurrences()]
    assert statuses.count("duplicate") == 5_000
