"""The synthetic corpus (garde scan-corpus) and its scoring (garde scan-eval)."""

import json

import pytest
from stdnum import iban, luhn
from typer.testing import CliRunner

from garde.scanner import ScanSettings, scan
from garde.scanner.cli import app
from garde.scanner.corpus import CorpusInputError, write_corpus
from garde.scanner.detect.validators import validate_nir
from garde.scanner.evaluate import EvalInputError, evaluate

runner = CliRunner()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "c"
    truth = write_corpus(out, 120, 3)
    return out, truth


@pytest.fixture(scope="module")
def scanned(corpus, tmp_path_factory):
    out, _ = corpus
    result = tmp_path_factory.mktemp("scan") / "r"
    scan([out / "dump"], result, ScanSettings(jobs=0))
    return result


def _bytes(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_it_writes_the_same_bytes_for_the_same_seed(corpus, tmp_path):
    out, _ = corpus
    again = tmp_path / "again"
    write_corpus(again, 120, 3)
    assert _bytes(again) == _bytes(out)
    other = tmp_path / "other"
    write_corpus(other, 120, 4)
    assert _bytes(other) != _bytes(out)


def test_it_writes_every_kind_of_file_with_decoys_a_zip_and_a_duplicate(corpus):
    out, truth = corpus
    files = truth["files"]
    for piece in ("exports/", "interfaces/hl7/", "courriers/", "bases/facturation.sql", "api/rendez_vous.json", "archives/", "sauvegarde/"):
        assert any(piece in f for f in files), piece
    assert any(f.endswith(".zip") for f in files)
    assert truth["decoys"] and set(truth["decoys"]) <= set(files)
    assert not any(v["path"] in truth["decoys"] for v in truth["values"])
    assert (out / "dump" / "sauvegarde").is_dir()


def test_it_lists_every_person_with_categories_and_places(corpus):
    _, truth = corpus
    assert truth["persons_count"] == len(truth["persons"]) == 120
    for person in truth["persons"]:
        assert person["files"] and person["categories"]
    recurring = [p for p in truth["persons"] if len(p["files"]) > 1]
    assert len(recurring) > 40
    categories = {c for p in truth["persons"] for c in p["categories"]}
    assert categories == {"identity", "national_identifier", "contact", "health", "financial", "credentials"}


def test_it_writes_valid_checksum_identifiers(corpus):
    _, truth = corpus
    values = truth["values"]
    nirs = [v["value"] for v in values if v["kind"] == "nir"]
    ibans = [v["value"] for v in values if v["kind"] == "iban"]
    cards = [v["value"] for v in values if v["kind"] == "card"]
    assert nirs and ibans and cards
    assert all(validate_nir(n) and validate_nir(n).checked for n in nirs)
    assert all(iban.is_valid(i) for i in ibans)
    assert all(luhn.is_valid(c.replace(" ", "")) for c in cards)


def test_it_varies_how_a_person_is_written(corpus):
    _, truth = corpus
    names = [v["value"] for v in truth["values"] if v["kind"] == "name"]
    dates = [v["value"] for v in truth["values"] if v["kind"] == "birth_date"]
    assert any(n.isupper() for n in names) and any(n.istitle() for n in names)
    assert any("/" in d for d in dates) and any("-" in d for d in dates) and any(len(d) == 8 and d.isdigit() for d in dates)
    assert any(any(month in d for month in ("janvier", "mars", "mai", "juin", "juillet", "octobre")) for d in dates) or any(
        "." in d for d in dates
    )


def test_it_refuses_bad_corpus_arguments(tmp_path):
    with pytest.raises(CorpusInputError, match="at least 1"):
        write_corpus(tmp_path / "x", 0, 1)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "f").write_text("x")
    with pytest.raises(CorpusInputError, match="not an empty folder"):
        write_corpus(tmp_path / "used", 10, 1)


def test_it_scores_a_scan_of_the_corpus(corpus, scanned):
    out, truth = corpus
    figures = evaluate(scanned, out / "truth.json")
    for category in ("national_identifier", "financial", "credentials"):
        assert figures["categories"][category]["recall"] == 1.0, category
        assert figures["categories"][category]["precision"] == 1.0, category
    assert figures["overall"]["recall"] > 0.95 and figures["overall"]["precision"] > 0.95
    persons = figures["persons"]
    assert persons["truth"] == 120
    assert persons["best_error"] == persons["best"] - 120
    assert persons["within_range"] == (persons["lower"] <= 120 <= persons["upper"])


def test_it_counts_a_missed_value_and_a_false_finding(corpus, scanned, tmp_path):
    out, truth = corpus
    base = evaluate(scanned, out)
    changed = dict(truth)
    nir = next(v for v in truth["values"] if v["kind"] == "nir")
    # The truth forgets one NIR (the scan's finding becomes a false one) and adds a NIR nobody wrote.
    changed["values"] = [v for v in truth["values"] if v is not nir] + [{**nir, "value": "1 65 03 35 238 012 38"}]
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(changed))
    figures = evaluate(scanned, path)["categories"]["national_identifier"]
    before = base["categories"]["national_identifier"]
    duplicates = sum(1 for v in truth["values"] if v["kind"] == "nir" and v["value"] == nir["value"] and v["path"] == nir["path"])
    assert duplicates == 1
    assert figures["true_positives"] == before["true_positives"] - 1
    assert figures["recalled"] == before["recalled"] - 1


def test_it_refuses_a_result_without_the_scan_key(corpus, scanned, tmp_path, monkeypatch):
    out, _ = corpus
    monkeypatch.setenv("GARDE_SCAN_KEY", "another-key-of-enough-length")
    with pytest.raises(EvalInputError, match="not the one the scan"):
        evaluate(scanned, out)
    with pytest.raises(EvalInputError, match="no scan result"):
        evaluate(tmp_path, out)


def test_it_runs_scan_corpus_and_scan_eval_from_the_command_line(tmp_path):
    out = tmp_path / "c"
    result = runner.invoke(app, ["scan-corpus", "--persons", "30", "--seed", "5", str(out)])
    assert result.exit_code == 0, result.output
    assert "30 persons" in result.output and (out / "truth.json").exists()
    scan([out / "dump"], tmp_path / "r", ScanSettings(jobs=0))
    result = runner.invoke(app, ["scan-eval", str(tmp_path / "r"), str(out / "truth.json"), "--json", str(tmp_path / "e.json")])
    assert result.exit_code == 0, result.output
    assert "Persons: truth 30" in result.output and "national_identifier" in result.output
    assert json.loads((tmp_path / "e.json").read_text())["persons"]["truth"] == 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan-corpus", "--persons", "0", "X"], "--persons must be at least 1"),
        (["scan-eval", "NORESULT", "NOTRUTH"], "no scan result in"),
    ],
)
def test_it_exits_2_with_one_line_on_bad_input(args, message, tmp_path):
    args = [str(tmp_path / a) if a.isupper() and len(a) > 1 else a for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output


def test_it_exits_2_on_a_truth_file_that_is_not_one(corpus, scanned, tmp_path):
    (tmp_path / "t.json").write_text('{"format": "other"}')
    result = runner.invoke(app, ["scan-eval", str(scanned), str(tmp_path / "t.json")])
    assert result.exit_code == 2 and "not written by garde scan-corpus" in result.output
