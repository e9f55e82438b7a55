"""Linkage: deterministic keys first, then Splink on keyed-hash features (never clear values)."""

import json
import math
import os
import re

import pyarrow.parquet as pq
import pytest

from garde.scanner import ScanSettings, linkage, scan
from garde.scanner import link as link_module
from garde.scanner.corpus import write_corpus
from garde.scanner.detect import detect_records
from garde.scanner.detect.validators import fold, validate_birth_date
from garde.scanner.link import link
from garde.scanner.linkfeatures import link_fields, phonetic
from garde.scanner.model import Field, Record

from .helpers import write_dump

KEY = b"a-test-key-of-enough-length"
HEX = re.compile(r"^[a-z]?[0-9a-f]{16}$|^[0-9a-f]{64}$")


def _record(locator: str, fields: dict) -> dict:
    found = detect_records([Record(locator, [Field(name, value) for name, value in fields.items()])], 0.5)[0]
    return {"record_id": locator, "identifies": True, **link_fields(found, KEY)}


def _patient(locator, last, first, birth=None, **extra):
    fields = {"Nom": last, "Prénom": first}
    if birth:
        fields["Date de naissance"] = birth
    names = {"ipp": "IPP", "postcode": "Code postal", "card": "Carte bancaire", "phone": "Téléphone"}
    fields.update({names[k]: v for k, v in extra.items()})
    return _record(locator, fields)


# Other people around the pairs under test, so that a merge is not the only thing left to do.
CROWD = [
    ("BERNARD", "Sophie", "04/05/1950"),
    ("ROUSSEAU", "Pierre", "19/09/1977"),
    ("FONTAINE", "Agnès", "30/06/1988"),
    ("GUÉRIN", "Loïc", "11/11/1999"),
    ("PERRIN", "Chloé", "02/12/1962"),
]


def _crowd() -> list[dict]:
    return [_patient(f"crowd {n}", *person) for n, person in enumerate(CROWD)]


def _together(result, records, a: str, b: str) -> bool:
    index = {r["record_id"]: i for i, r in enumerate(records)}
    return result.best[index[a]] == result.best[index[b]]


def test_it_hashes_names_alike_whatever_the_case_accents_or_order():
    one = _patient("a", "LEFÈVRE", "Hélène")
    two = _patient("b", "helene", "Lefevre")  # first and last names swapped at data entry
    for name in ("name_key", "name_grams", "name_phonetic"):
        assert one[name] and one[name] == two[name], name
    other = _patient("c", "LEFEBVRE", "Hélène")
    assert other["name_key"] != one["name_key"]


def test_its_phonetic_key_merges_french_spellings():
    assert phonetic("dupont") == phonetic("dupond") == phonetic("dupon")
    assert phonetic(fold("Gauthier")) == phonetic("gautier")
    assert phonetic("martin") != phonetic("morin")


@pytest.mark.parametrize("written", ["12/03/1965", "1965-03-12", "12 mars 1965", "12.03.1965", "19650312"])
def test_it_normalises_birth_dates_written_in_any_format(written):
    assert validate_birth_date(written).normalized == "1965-03-12"
    assert (
        _patient("a", "DUPONT", "Jean", written)["birth"]
        == _patient("b", "DUPONT", "Jean", "12/03/1965")["birth"]
    )


def test_it_compares_dates_with_day_and_month_swapped_or_one_component_wrong():
    base = _patient("a", "DUPONT", "Jean", "12/03/1965")
    swapped = _patient("b", "DUPONT", "Jean", "03/12/1965")
    assert swapped["birth"] != base["birth"] and swapped["birth_swap"] == base["birth"]
    day_wrong = _patient("c", "DUPONT", "Jean", "13/03/1965")
    assert len(set(day_wrong["birth_parts"]) & set(base["birth_parts"])) == 1
    far = _patient("d", "DUPONT", "Jean", "07/11/1972")
    assert not set(far["birth_parts"]) & set(base["birth_parts"])


def test_its_link_fields_are_keyed_hashes_only():
    record = _patient(
        "a", "DUPONT", "Jean", "12/03/1965", postcode="35000", card="4970 1000 0000 0063", ipp="00123"
    )
    values = [
        v
        for name, value in record.items()
        if name not in ("record_id", "identifies")
        for v in (value if isinstance(value, list) else [value])
    ]
    assert len(values) > 20
    assert all(v is None or HEX.match(v) for v in values), values
    found = detect_records([Record("a", [Field("Nom", "DUPONT"), Field("Prénom", "Jean")])], 0.5)[0]
    assert link_fields(found, KEY)["name_key"] == record["name_key"]
    assert link_fields(found, b"another-key-of-enough-length")["name_key"] != record["name_key"]


def test_it_links_a_typo_in_a_name_with_splink():
    records = _crowd() + [
        _patient("csv", "DUPONT", "Jean", "12/03/1965", ipp="00123", postcode="35000"),
        _patient("letter", "Dupond", "Jean", "1965-03-12"),
    ]
    deterministic = link(records, probabilistic=False)
    assert not _together(deterministic, records, "csv", "letter")
    result = link(records)
    assert result.info["method"] == "splink"
    assert _together(result, records, "csv", "letter")
    assert "probabilistic" in result.linked_on[-1] and result.probability[-1] >= link_module.BEST_THRESHOLD
    assert result.best_count == len(CROWD) + 1 and result.upper == len(records)


def test_it_links_swapped_names_and_a_swapped_day_and_month():
    records = _crowd() + [
        _patient("csv", "MARTIN", "Claire", "01/02/1980"),
        _patient("form", "Claire", "Martin", "02/01/1980"),
    ]
    result = link(records)
    assert _together(result, records, "csv", "form")
    assert result.best_count == len(CROWD) + 1


def test_it_links_a_payment_row_with_a_name_only():
    records = _crowd() + [
        _patient("csv", "LE GOFF", "Yann", "23/07/1991", postcode="29200"),
        _patient("payment", "LE GOFF", "YANN", card="4970 1000 0000 0063"),
    ]
    assert _together(link(records), records, "csv", "payment")


def test_it_never_merges_two_people_with_the_same_name_and_different_birth_dates():
    records = _crowd() + [
        _patient("csv 1965", "MARTIN", "Jean", "12/03/1965", postcode="35000"),
        _patient("csv 1972", "Martin", "Jean", "07/11/1972", postcode="35000"),
        _patient("payment", "MARTIN", "Jean", card="4970 1000 0000 0063"),  # may join one of them, never both
    ]
    result = link(records)
    assert not _together(result, records, "csv 1965", "csv 1972")
    assert result.best_count >= len(CROWD) + 2


def test_it_leaves_a_crowded_value_out_of_blocking_and_still_links_through_other_keys(monkeypatch):
    # A placeholder birth date shared by thousands of records would make millions of pairs to score.
    monkeypatch.setattr(linkage, "MAX_BLOCK", 3)
    placeholder = "01/01/1900"
    unknown = [("BLANC", "Luc"), ("NOIR", "Eva"), ("VERT", "Paul"), ("ROUGE", "Inès")]
    records = _crowd() + [_patient(f"unknown {n}", last, first, placeholder) for n, (last, first) in enumerate(unknown)]
    records += [_patient("csv", "MARTIN", "Claire", placeholder), _patient("form", "Claire", "Martin", placeholder)]
    result = link(records)
    assert result.info["crowded_blocking_values"] == {"birth": {"values": 1, "records": 6}}
    assert _together(result, records, "csv", "form")  # same name: blocked on the name instead
    assert result.best_count == len(CROWD) + len(unknown) + 1


def test_it_falls_back_to_deterministic_linkage_when_splink_fails(monkeypatch):
    records = _crowd() + [
        _patient("csv", "DUPONT", "Jean", "12/03/1965"),
        _patient("letter", "Dupond", "Jean", "1965-03-12"),
    ]

    def broken(*args, **kwargs):
        raise RuntimeError("duckdb is gone")

    monkeypatch.setattr(link_module, "score_pairs", broken)
    result = link(records)
    assert result.info["method"] == "deterministic" and "duckdb is gone" in result.info["splink_error"]
    assert result.best == link(records, probabilistic=False).best


SPLINK_OUT_OF_MEMORY = (
    "Error executing the following sql for table `__splink__df_predict`(__splink__df_predict_1):\n"
    "CREATE TABLE __splink__df_predict_1 AS\nWITH\n__splink__df_concat as (select * from link_input)\n\n"
    "Error was: Out of Memory Error: could not allocate block of size 256.0 KiB (122.0 MiB/122.0 MiB used)\n\n"
    "Possible solutions:\n* Reducing the number of threads (SET threads=X)\n"
)


def test_a_failed_splink_is_named_by_its_cause_and_shown_to_whoever_reads_the_result(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from garde.scanner.cli import app

    def out_of_memory(*args, **kwargs):
        raise RuntimeError(SPLINK_OUT_OF_MEMORY)

    monkeypatch.setattr(link_module, "score_pairs", out_of_memory)
    dump = write_dump(tmp_path / "dump")
    result = CliRunner().invoke(app, ["scan", str(dump), "--out", str(tmp_path / "out"), "--jobs", "0"])
    assert result.exit_code == 0, result.output
    cause = "RuntimeError: Out of Memory Error: could not allocate block of size 256.0 KiB (122.0 MiB/122.0 MiB used)"
    linkage_info = json.loads((tmp_path / "out" / "manifest.json").read_text())["linkage"]
    assert linkage_info["splink_error"] == cause and linkage_info["method"] == "deterministic"
    assert "warning: Probabilistic linkage (Splink) failed" in " ".join(result.output.split())
    assert "the best estimate may count one person several times" in (tmp_path / "out" / "report.html").read_text()


# ---- on a generated corpus ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("linkcorpus") / "c"
    return out, write_corpus(out, 300, 11)


@pytest.fixture(scope="module")
def scans(corpus, tmp_path_factory):
    out, _ = corpus
    results = []
    for name in ("one", "two"):
        result = tmp_path_factory.mktemp(name) / "r"
        scan([out / "dump"], result, ScanSettings(jobs=0))
        results.append(result)
    return results


def test_it_counts_persons_within_two_percent_of_the_truth(corpus, scans):
    _, truth = corpus
    summary = json.loads((scans[0] / "summary.json").read_text())
    persons, expected = summary["persons"], truth["persons_count"]
    assert abs(persons["best"] - expected) <= 0.02 * expected, persons
    assert persons["lower"] <= expected <= persons["upper"]
    linkage = json.loads((scans[0] / "manifest.json").read_text())["linkage"]
    assert linkage["method"] == "splink" and linkage["merges"] > 0
    assert linkage["u_from"] == "random sampling" and linkage["m_from"].startswith("labelled pairs")
    rows = pq.read_table(scans[0] / "persons.parquet").to_pylist()
    linked = [r for r in rows if "probabilistic" in r["linked_on"]]
    assert linked and all(r["match_probability"] >= linkage["best_threshold"] for r in linked)


def test_it_gives_the_same_persons_for_the_same_scan(scans):
    one, two = (pq.read_table(result / "persons.parquet").to_pylist() for result in scans)
    assert one == two
    assert json.loads((scans[0] / "summary.json").read_text()) == json.loads(
        (scans[1] / "summary.json").read_text()
    )
    records = [
        pq.read_table(result / "records.parquet", columns=["record_id", "person_id"]).to_pylist()
        for result in scans
    ]
    assert records[0] == records[1]


def test_each_person_is_named_by_its_smallest_record_id_and_lists_where_it_is(scans):
    persons = pq.read_table(scans[0] / "persons.parquet").to_pylist()
    records = pq.read_table(scans[0] / "records.parquet").to_pylist()
    person_of = {r["record_id"]: r["person_id"] for r in records}
    for person in persons:
        assert person["person_id"] == link_module.person_id(person["record_ids"])
        assert {person_of[record_id] for record_id in person["record_ids"]} == {person["person_id"]}
        assert person["records"] == len(person["record_ids"]) and 1 <= len(person["locations"]) <= 50
        assert person["lower_bound_group"].startswith("p")
    assert sum(p["records"] for p in persons) == sum(1 for r in records if r["person_id"])


def _clear_values_in(result, needles: set[str]) -> set[str]:
    """Every needle found in any output file (parquet cells, JSON and HTML text)."""
    found = set()
    for path in result.iterdir():
        if path.suffix == ".parquet":
            texts = [json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str)]
        elif path.suffix in (".json", ".html"):
            texts = [path.read_text(encoding="utf-8")]
        else:
            continue
        for text in texts:
            folded = fold(text)
            found |= {n for n in needles if n in text or fold(n) in folded}
    return found


def test_no_output_holds_a_clear_name_without_reveal(corpus, scans, tmp_path):
    _, truth = corpus
    names = {p["last_name"] for p in truth["persons"] if len(p["last_name"]) >= 6}
    assert len(names) > 30
    assert _clear_values_in(scans[0], names) == set()
    # The same search finds a name when the scan reveals it.
    dump = write_dump(tmp_path / "dump")
    scan([dump], tmp_path / "plain", ScanSettings(jobs=0))
    assert _clear_values_in(tmp_path / "plain", {"DUPONT"}) == set()
    scan([dump], tmp_path / "revealed", ScanSettings(jobs=0, reveal=True))
    assert _clear_values_in(tmp_path / "revealed", {"DUPONT"}) == {"DUPONT"}


def test_the_record_store_numbers_records_and_person_records_in_the_order_they_come(tmp_path):
    from garde.scanner.recordstore import RecordStore

    store = RecordStore(tmp_path / "records.duckdb")
    try:
        store.add(
            [
                {"record_id": "a#0", "sha256": "a", "identifies": True, "categories": ["identity"], "weak_keys": []},
                {"record_id": "a#1", "sha256": "a", "identifies": False, "categories": ["health"]},
                {"record_id": "b#0", "sha256": "b", "identifies": True, "name_key": "k"},
            ]
        )
        assert store.index_persons() == 2
        assert store.fetch("SELECT record_id, idx, pidx FROM records ORDER BY idx") == [("a#0", 0, 0), ("a#1", 1, None), ("b#0", 2, 1)]
        assert store.fetch("SELECT record_id, weak_keys, name_key FROM persons ORDER BY pidx") == [("a#0", None, None), ("b#0", None, "k")]
        # names kept as text: DuckDB sorts and joins text columns within its memory limit, not lists
        assert store.fetch("SELECT categories FROM records ORDER BY idx") == [("identity",), ("health",), (None,)]
        # a part written when names were lists (a scan resumed after an upgrade) is stored the same way
        import pyarrow as pa

        from garde.scanner.worker import PART_RECORDS

        old_schema = pa.schema([pa.field(f.name, pa.list_(pa.string())) if f.name in ("categories", "detectors") else f for f in PART_RECORDS])
        old_part = pa.RecordBatch.from_pylist([{"record_id": "c#0", "identifies": True, "categories": ["contact", "identity"], "detectors": []}], schema=old_schema)
        store.add_batch(old_part, "c")
        store.flush()
        assert store.fetch("SELECT categories, detectors, pidx FROM records WHERE record_id = 'c#0'") == [("contact,identity", None, 2)]
    finally:
        store.close()


def test_the_record_store_takes_a_stream_of_batches_in_several_statements_read_in_the_callers_thread(tmp_path, monkeypatch):
    """The report streams the records of every part into the store (`add_batches`): cut into
    several INSERT statements, numbered as if added one batch at a time, and read in the calling
    thread: the generator reads the scan's ledger, a SQLite connection that only works there."""
    import sqlite3

    import pyarrow as pa

    from garde.scanner import recordstore
    from garde.scanner.worker import PART_RECORDS

    monkeypatch.setattr(recordstore, "INSERT_RECORDS", 4)
    ledger = sqlite3.connect(":memory:")  # check_same_thread: used from another thread, it raises

    def batches():
        for number in range(5):
            ledger.execute("SELECT 1").fetchall()
            rows = [{"record_id": f"{number}#{row}", "identifies": row != 1, "categories": "identity"} for row in range(3)]
            yield pa.RecordBatch.from_pylist(rows, schema=PART_RECORDS.append(pa.field("sha256", pa.string())))

    store = recordstore.RecordStore(tmp_path / "records.duckdb")
    try:
        store.add_batches(batches())
        assert store.index_persons() == 10 and store.size == 15
        rows = store.fetch("SELECT record_id, idx, pidx FROM records ORDER BY idx")
        assert [row[1] for row in rows] == list(range(15))
        assert [row[2] for row in rows] == [0, None, 1, 2, None, 3, 4, None, 5, 6, None, 7, 8, None, 9]
        assert rows[-1][0] == "4#2"
        assert store.fetch("SELECT current_setting('threads')")[0][0] > 1 or (os.cpu_count() or 1) == 1  # put back
    finally:
        store.close()


def test_a_scan_that_splink_links_says_nothing_of_a_failure(scans):
    assert "Splink) failed" not in (scans[0] / "report.html").read_text()


def test_it_scores_the_blocked_pairs_in_chunks_as_splink_predicts_them_at_once(corpus, scans, monkeypatch, tmp_path):
    out, _ = corpus
    scored = {}
    score_in_chunks = linkage._score_blocked_pairs

    def with_splinks_own_predict(store, api, linker, threshold, steps):
        predictions = linker.inference.predict(threshold_match_probability=threshold)  # blocking and scoring in one
        scored["splink"] = sorted(
            store.fetch(
                "SELECT round(match_probability, 9), least(unique_id_l, unique_id_r), greatest(unique_id_l, unique_id_r) "
                f"FROM {predictions.physical_name}"
            )
        )
        info = score_in_chunks(store, api, linker, threshold, steps)
        scored["garde"] = sorted(store.fetch("SELECT p, a, b FROM pairs"))
        return info

    monkeypatch.setattr(linkage, "PREDICT_CHUNK_PAIRS", 50)
    monkeypatch.setattr(linkage, "_score_blocked_pairs", with_splinks_own_predict)
    scan([out / "dump"], tmp_path / "chunked", ScanSettings(jobs=0))
    linkage_info = json.loads((tmp_path / "chunked" / "manifest.json").read_text())["linkage"]
    assert linkage_info["method"] == "splink" and linkage_info["predict_chunks"] > 5
    assert linkage_info["blocked_pairs"] > 300
    assert len(scored["garde"]) > 100 and scored["garde"] == scored["splink"]
    for name in ("persons.parquet", "records.parquet"):
        assert pq.read_table(tmp_path / "chunked" / name).to_pylist() == pq.read_table(scans[0] / name).to_pylist(), name


@pytest.mark.parametrize("threshold", [None, 0.999])
def test_blocked_pairs_that_cannot_reach_the_threshold_are_left_out_and_the_persons_are_the_same(
    corpus, monkeypatch, tmp_path, threshold
):
    out, _ = corpus
    if threshold:  # as in a scan of millions of records, where the prior is tiny
        monkeypatch.setattr(link_module, "LOWER_THRESHOLD", threshold)
    scan([out / "dump"], tmp_path / "filtered", ScanSettings(jobs=0))
    monkeypatch.setattr(linkage, "_can_reach", lambda prior, parameters, threshold: "TRUE")  # every blocked pair
    scan([out / "dump"], tmp_path / "all", ScanSettings(jobs=0))
    filtered, every = (json.loads((tmp_path / name / "manifest.json").read_text())["linkage"] for name in ("filtered", "all"))
    assert filtered["blocked_pairs"] < every["blocked_pairs"]
    assert filtered["pairs_scored_above_threshold"] == every["pairs_scored_above_threshold"] > 0
    assert set(filtered["seconds_by_step"]) == {"input", "training", "blocking", "scoring"}
    for name in ("persons.parquet", "records.parquet"):
        assert pq.read_table(tmp_path / "filtered" / name).to_pylist() == pq.read_table(tmp_path / "all" / name).to_pylist(), name


def test_nothing_is_blocked_when_even_a_pair_that_agrees_on_everything_cannot_reach_the_threshold(corpus, monkeypatch, tmp_path):
    out, _ = corpus
    # As in a scan of millions of records with few NIR/IPP links: a prior of about 2^-60.
    monkeypatch.setattr(linkage, "RECALL_OF_DETERMINISTIC_STAGE", 2.0**50)
    scan([out / "dump"], tmp_path / "skipped", ScanSettings(jobs=0))
    monkeypatch.setattr(linkage, "_some_pair_can_reach", lambda prior, parameters, threshold: True)
    monkeypatch.setattr(linkage, "_can_reach", lambda prior, parameters, threshold: "TRUE")  # every blocked pair
    scan([out / "dump"], tmp_path / "all", ScanSettings(jobs=0))
    skipped, every = (json.loads((tmp_path / name / "manifest.json").read_text())["linkage"] for name in ("skipped", "all"))
    assert skipped["best_possible_weight"] < math.log2(skipped["lower_threshold"] / (1 - skipped["lower_threshold"]))
    assert skipped["blocked_pairs"] == skipped["predict_chunks"] == 0 and skipped["seconds_by_step"]["blocking"] == 0
    assert every["blocked_pairs"] > 300 and every["pairs_scored_above_threshold"] == skipped["pairs_scored_above_threshold"] == 0
    for name in ("persons.parquet", "records.parquet"):
        assert pq.read_table(tmp_path / "skipped" / name).to_pylist() == pq.read_table(tmp_path / "all" / name).to_pylist(), name


def test_a_run_of_pairs_duckdb_has_no_memory_for_is_split_and_scored_in_halves(corpus, scans, monkeypatch, tmp_path):
    import duckdb

    out, _ = corpus
    score_run = linkage._score_run
    sizes = []

    def short_of_memory(store, api, linker, threshold):
        size = store.fetch("SELECT count(*) FROM blocked_chunk")[0][0]
        sizes.append(size)
        if size > 120:
            try:
                raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256.0 KiB")
            except duckdb.OutOfMemoryException as error:
                raise RuntimeError("Error executing the following sql ... Error was: Out of Memory Error") from error
        score_run(store, api, linker, threshold)

    monkeypatch.setattr(linkage, "PREDICT_CHUNK_PAIRS", 400)
    monkeypatch.setattr(linkage, "_score_run", short_of_memory)
    scan([out / "dump"], tmp_path / "split", ScanSettings(jobs=0))
    linkage_info = json.loads((tmp_path / "split" / "manifest.json").read_text())["linkage"]
    assert linkage_info["method"] == "splink" and linkage_info["predict_runs_split"] >= 2
    assert sum(size for size in sizes if size <= 120) == linkage_info["blocked_pairs"]  # every pair scored once
    for name in ("persons.parquet", "records.parquet"):
        assert pq.read_table(tmp_path / "split" / name).to_pylist() == pq.read_table(scans[0] / name).to_pylist(), name


def test_a_run_that_still_has_no_memory_after_its_splits_leaves_the_deterministic_stages(corpus, monkeypatch, tmp_path):
    import duckdb

    out, _ = corpus

    def never_enough(store, api, linker, threshold):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256.0 KiB")

    monkeypatch.setattr(linkage, "_score_run", never_enough)
    result = scan([out / "dump"], tmp_path / "out", ScanSettings(jobs=0))
    assert result.manifest["linkage"]["method"] == "deterministic"
    assert "Out of Memory" in result.manifest["linkage"]["splink_error"]


def _lookalikes(count: int, seed: int) -> list[dict]:
    """Person records drawn from few names, dates, postcodes and phones, with typos, swapped names,
    swapped days and months and missing values: pairs at every comparison level."""
    import random

    generator = random.Random(seed)
    names = [("MARTIN", "Marie"), ("MARTINS", "Marie"), ("MARTIN", "Mary"), ("LE GOFF", "Yann"), ("LEGOF", "Yan"),
             ("DUBOIS", "Jean"), ("DUBOIT", "Jeanne"), ("GUILLOU", "Anne"), ("GUILOU", "Anne"), ("PETIT", "Louis")]
    births = ["03/05/1961", "05/03/1961", "03/05/1962", "04/05/1961", "12/11/1990", "11/12/1990", "01/01/1950", None]
    records = []
    for number in range(count):
        last, first = generator.choice(names)
        if generator.random() < 0.2:
            last, first = first, last
        extra = {}
        if generator.random() < 0.5:
            extra["postcode"] = generator.choice(["29200", "35000", "56100"])
        if generator.random() < 0.4:
            extra["phone"] = generator.choice(["06 12 34 56 78", "02 98 00 00 01", "07 11 22 33 44"])
        if generator.random() < 0.1:
            extra["card"] = "4970 1012 3456 7891"
        records.append(_patient(f"r{number}", last, first, generator.choice(births), **extra))
    return records


def test_the_best_possible_weight_of_a_blocked_pair_is_never_below_the_weight_splink_gives_it():
    from splink import DuckDBAPI, Linker

    from garde.scanner.recordstore import RecordStore

    store = RecordStore()
    store.add([{**record, "identifies": True} for record in _lookalikes(400, seed=3)])
    store.index_persons()
    prior = 0.01
    parameters = linkage._blend({name: {} for name in linkage.COMPARISONS}, prior, 0, 0.0, False, False)
    api = DuckDBAPI(connection=store.connection)
    table, _ = linkage._input_table(store)
    linker = Linker(api.register(table, table_name="records_to_link"), linkage._settings(prior, parameters), log_level=None)
    predictions = linker.inference.predict()
    prior_bits = math.log2(prior / (1 - prior))
    weights = store.fetch(
        f"SELECT p.match_weight, {prior_bits!r} + {linkage._best_weight(parameters)} FROM {predictions.physical_name} p "
        "JOIN link_input l ON l.unique_id = p.unique_id_l JOIN link_input r ON r.unique_id = p.unique_id_r"
    )
    store.close()
    assert len(weights) > 10_000
    assert len({round(weight, 6) for weight, _ in weights}) > 30  # pairs at many combinations of levels
    below = [(weight, bound) for weight, bound in weights if bound < weight - 1e-9]
    assert below == []
    exact = sum(1 for weight, bound in weights if abs(bound - weight) < 1e-9)
    assert exact > 0.5 * len(weights)  # a bound, but a close one: most pairs are at the level it assumes


def test_the_mask_tests_keep_every_pair_whose_lists_share_a_hash():
    import random

    import duckdb

    generator = random.Random(5)
    grams = [f"{generator.getrandbits(64):016x}" for _ in range(400)]  # bigram hashes, some common to many names
    rows = []
    for pair in range(5_000):
        left = set(generator.sample(grams, generator.randint(4, 16)))
        kept = generator.sample(sorted(left), generator.randint(0, len(left)))  # the right name shares some bigrams
        right = set(kept) | set(generator.sample(grams, generator.randint(0, 12)))
        contacts = [f"e{generator.getrandbits(64):016x}" for _ in range(2)]
        for side, names, contact in (("l", left, contacts[:1]), ("r", right, contacts[pair % 2 :][:1])):
            rows.append((pair, side, sorted(names), contact))
    connection = duckdb.connect()
    connection.execute("CREATE TABLE named (pair INTEGER, side VARCHAR, name_grams VARCHAR[], contact_keys VARCHAR[])")
    connection.executemany("INSERT INTO named VALUES (?, ?, ?, ?)", rows)
    record = (
        "SELECT pair, name_grams, contact_keys, len(name_grams)::INTEGER AS name_grams_n, "
        f"{linkage._mask('name_grams')} AS name_mask, {linkage._mask('contact_keys')} AS contact_mask, "
        f"(len(name_grams) - bit_count({linkage._mask('name_grams')}))::INTEGER AS name_collisions, side, NULL AS postcode FROM named"
    )
    lists = (
        "len(list_intersect(l.name_grams, r.name_grams)) * 1.5 >= 0.5 * (l.name_grams_n + r.name_grams_n) "
        "OR len(list_intersect(l.contact_keys, r.contact_keys)) >= 1"
    )
    masks = (  # as linkage._best_weight bounds the lowest name level and a shared contact
        "(coalesce(bit_count(l.name_mask & r.name_mask), 0) + least(l.name_collisions, r.name_collisions)) * 1.5 "
        ">= 0.5 * (l.name_grams_n + r.name_grams_n) OR bit_count(l.contact_mask & r.contact_mask) >= 1"
    )
    counts = connection.execute(
        f"WITH records AS ({record}) SELECT count(*) FILTER (WHERE {lists}), "
        f"count(*) FILTER (WHERE ({lists}) AND NOT ({masks})), count(*) FILTER (WHERE {masks}) "
        "FROM records l JOIN records r ON l.pair = r.pair AND l.side = 'l' AND r.side = 'r'"
    ).fetchone()
    kept_by_lists, dropped_by_masks, kept_by_masks = counts
    assert kept_by_lists > 1_000 and dropped_by_masks == 0, counts
    assert kept_by_masks < 4_500, counts  # not every pair: the masks do drop pairs
