"""Probabilistic stage of the linkage: Splink (Fellegi-Sunter) on DuckDB, offline, on the scan's
record store (recordstore.py: a database on disk, so memory does not grow with the scan).

It compares person records on their link fields (keyed hashes, see linkfeatures.py): name, birth
date, postcode and shared contacts, and scores every pair that shares a blocking key. Parameters:
- u (how often two different people agree by chance): Splink's random sampling of record pairs
  (seeded, 300,000 pairs), corrected for the matches the sample holds: the agreements observed,
  less those expected from matching pairs (lambda * m * pairs) and two standard deviations of that
  count (matches dominate the agreement on a full name or a birth date), and never below one chance agreement per 100 records (0.01 * records / pairs):
  an agreement the sample never saw by chance (two different people with the same full name) is
  still possible, and this floor keeps its weight independent of the size of the scan;
- m (how often two records of one person agree): estimated by Splink from labelled pairs, the
  pairs of records that share a NIR/INS or an IPP (the deterministic stage), shrunk 10 % towards
  the documented defaults below (agreement levels never seen keep a small probability);
- lambda (probability that two random records are one person): pairs linked by the deterministic
  stage over all pairs, divided by an assumed recall of that stage of 0.8.
Small scans (fewer than MIN_RECORDS_U records, or fewer than MIN_LABELS labelled pairs) keep the
defaults for what they cannot estimate. Everything is seeded and ordered: the same records give
the same pairs and probabilities (docs/scanner.md, "Link").
"""

import logging
import math
import time
from importlib import metadata

SEED = 20261129
RECALL_OF_DETERMINISTIC_STAGE = 0.8
MIN_RECORDS_U = 300
MIN_LABELS = 30
MAX_LABELS = 50_000
MAX_U_PAIRS = 300_000
CHANCE_AGREEMENTS_PER_RECORD = 0.01
M_SHRINK = 0.1
U_CHUNKS = 10  # the sampled pairs are compared in 10 chunks: half the peak memory of one
# Blocked pairs are scored this many at a time: in one query, the pairs of 2.5 million person
# records ran out of 256 MB in DuckDB (the joins of the pairs to the compared columns, which hold
# lists); by runs of this size they pass (docs/benchmarks.md, "The report at 2.5 million records").
PREDICT_CHUNK_PAIRS = 2_000_000
NEW_PAIRS_TABLE = "CREATE OR REPLACE TABLE pairs (p DOUBLE, a BIGINT, b BIGINT)"  # the pairs kept, a < b
MAX_SPLITS = 4  # a run that runs out of memory is split in two, down to a sixteenth
LEVEL_NOT_OBSERVED = "level not observed"

# Comparison levels: (label, SQL condition, default m, default u). The first level of each
# comparison is its null level (a value missing on one side: no evidence either way).
COMPARISONS = {
    "name": [
        ("null", "name_key_l IS NULL OR name_key_r IS NULL", None, None),
        ("same tokens", "name_key_l = name_key_r", 0.85, 0.0005),
        ("same French phonetic key", "name_phonetic_l = name_phonetic_r", 0.05, 0.001),
        # Jaccard |A & B| / |A | B| >= t, as |A & B| * (1 + t) >= t * (|A| + |B|): one intersection
        (
            "bigram Jaccard >= 0.7",
            "len(list_intersect(name_grams_l, name_grams_r)) * 1.7 >= 0.7 * (name_grams_n_l + name_grams_n_r)",
            0.05,
            0.001,
        ),
        (
            "bigram Jaccard >= 0.5",
            "len(list_intersect(name_grams_l, name_grams_r)) * 1.5 >= 0.5 * (name_grams_n_l + name_grams_n_r)",
            0.03,
            0.01,
        ),
        ("else", "ELSE", 0.02, 0.9875),
    ],
    "birth": [
        ("null", "birth_l IS NULL OR birth_r IS NULL", None, None),
        ("same date", "birth_l = birth_r", 0.95, 0.0002),
        ("day and month swapped", "birth_l = birth_swap_r", 0.01, 0.0002),
        ("one component differs", "len(list_intersect(birth_parts_l, birth_parts_r)) >= 1", 0.02, 0.05),
        ("else", "ELSE", 0.02, 0.9496),
    ],
    "postcode": [
        ("null", "postcode_l IS NULL OR postcode_r IS NULL", None, None),
        ("same postcode", "postcode_l = postcode_r", 0.85, 0.02),
        ("else", "ELSE", 0.15, 0.98),
    ],
    # Each contact key starts with its kind (e-mail, phone, IBAN, card): a record with a card and
    # one with a phone have nothing to compare.
    "contact": [
        (
            "null",
            "contact_keys_l IS NULL OR contact_keys_r IS NULL OR len(list_intersect("
            "list_transform(contact_keys_l, lambda k: left(k, 1)), list_transform(contact_keys_r, lambda k: left(k, 1)))) = 0",
            None,
            None,
        ),
        (
            "shared e-mail, phone, IBAN or card",
            "len(list_intersect(contact_keys_l, contact_keys_r)) >= 1",
            0.6,
            0.0001,
        ),
        ("else", "ELSE", 0.4, 0.9999),
    ],
}
# Pairs are scored only within a block: records sharing one of these values. A value held by more
# than MAX_BLOCK records (a placeholder birth date such as 01/01/1900, an "INCONNU X" name) is left
# out of blocking: its block would have millions of pairs for one value that tells nothing, and
# the records that hold it are still compared through their other keys.
MAX_BLOCK = 1_000
BLOCKING_RULES = (
    "l.name_key_block = r.name_key_block",
    "l.birth_block = r.birth_block",
    "l.name_phonetic_block = r.name_phonetic_block",
    "l.birth_block = r.birth_swap_block",
)
# A blocking key alone fills its blocks with the square of its records (8 million records: about
# 240 a birth date, a billion pairs; a common full name, tens of millions), nearly all of them
# different people with nothing else in common. A blocked pair is scored only if its best possible
# match weight reaches the threshold (`_can_reach`): the prior plus, for each comparison, the highest
# weight among the levels the pair may be at. That bound reads no list: bigram and contact overlaps
# are bounded with bit masks of the hashes (MASK_BITS, one bit per hash), which never miss a shared
# hash; with `collisions` the bigrams of a record that share a bit with another of its bigrams, two
# names share at most bit_count(mask_l & mask_r) + least(collisions_l, collisions_r) bigrams. So the
# pairs at the threshold are exactly those of scoring every blocked pair (a test checks it); only
# pairs that could not reach it are left out.
MASK_BITS = 127  # a HUGEINT's bits, less the sign
WEIGHT_TOLERANCE = 1e-9  # bits: the bound is summed in another order than Splink's weight
BLOCKING_COLUMNS = ("name_key", "birth", "name_phonetic")
COLUMNS = (
    "name_key",
    "name_grams",
    "name_phonetic",
    "birth",
    "birth_swap",
    "birth_parts",
    "postcode",
    "contact_keys",
)


def _settings(prior: float, parameters: dict | None = None, can_reach: str | None = None) -> dict:
    """Splink's settings; with `can_reach` (SQL on l and r), the blocking rules keep only the pairs
    it holds for."""
    comparisons = []
    for name, levels in COMPARISONS.items():
        rows = []
        for index, (label, condition, m, u) in enumerate(levels):
            level = {"sql_condition": condition, "label_for_charts": label}
            if index == 0:
                level["is_null_level"] = True
            else:
                m, u = parameters[name][index] if parameters else (m, u)
                level["m_probability"], level["u_probability"] = m, u
            rows.append(level)
        comparisons.append(
            {"output_column_name": name, "comparison_levels": rows, "comparison_description": name}
        )
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": prior,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": f"{rule} AND {can_reach}" if can_reach else rule} for rule in BLOCKING_RULES
        ],
        "comparisons": comparisons,
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
    }


def _input_table(store) -> tuple[str, dict]:
    """The columns Splink compares, one row per person record (unique_id = pidx), with the blocking
    columns (see MAX_BLOCK); and how many values and records were left out of each blocking key."""
    crowded = {}
    for column in BLOCKING_COLUMNS:
        store.run(
            f"CREATE OR REPLACE TABLE crowded_{column} AS SELECT {column} AS value, count(*) AS records FROM persons "
            f"WHERE {column} IS NOT NULL GROUP BY {column} HAVING count(*) > {MAX_BLOCK}"
        )
        values, records = store.fetch(f"SELECT count(*), coalesce(sum(records), 0) FROM crowded_{column}")[0]
        if values:
            crowded[column] = {"values": values, "records": int(records)}
    columns = ", ".join(f"p.{column}" for column in COLUMNS)
    masks = (
        f"{_mask('p.name_grams')} AS name_mask, {_mask('p.contact_keys')} AS contact_mask, "
        f"{_mask('p.birth_parts')} AS birth_parts_mask, "
        f"(coalesce(len(p.name_grams), 0) - coalesce(bit_count({_mask('p.name_grams')}), 0))::INTEGER AS name_collisions"
    )
    blocks = ", ".join(
        f"CASE WHEN c_{column}.value IS NULL THEN p.{column} END AS {column}_block" for column in BLOCKING_COLUMNS
    )
    joins = " ".join(f"LEFT JOIN crowded_{column} c_{column} ON c_{column}.value = p.{column}" for column in BLOCKING_COLUMNS)
    store.run(
        f"CREATE OR REPLACE TABLE link_input AS SELECT p.pidx AS unique_id, {columns}, "
        f"coalesce(len(p.name_grams), 0)::INTEGER AS name_grams_n, {masks}, {blocks}, "
        "CASE WHEN c_swap.value IS NULL THEN p.birth_swap END AS birth_swap_block "
        f"FROM persons p {joins} LEFT JOIN crowded_birth c_swap ON c_swap.value = p.birth_swap ORDER BY p.pidx"
    )
    return "link_input", crowded


def _mask(column: str) -> str:
    """SQL: a bit mask of the hashes of a list column (one bit per hash, MASK_BITS), NULL for none."""
    return (
        f"CASE WHEN len({column}) > 0 THEN list_reduce(list_transform({column}, "
        f"lambda v: 1::HUGEINT << (hash(v) % {MASK_BITS})::INTEGER), lambda a, b: a | b) END"
    )


def _trained(model: dict) -> dict:
    """(m, u) per comparison and level index from a Splink model dict (None when not trained)."""
    found = {}
    for comparison in model["comparisons"]:
        levels = {}
        for index, level in enumerate(comparison["comparison_levels"]):
            if not level.get("is_null_level"):
                levels[index] = (level.get("m_probability"), level.get("u_probability"))
        found[comparison["output_column_name"]] = levels
    return found


def _number(value) -> float | None:
    if value == LEVEL_NOT_OBSERVED:
        return 0.0
    return value if isinstance(value, int | float) else None


def _blend(
    trained: dict, prior: float, u_pairs: int, u_floor: float, m_trained: bool, u_trained: bool
) -> dict:
    """Final (m, u) per level: see the module docstring."""
    parameters = {}
    for name, levels in COMPARISONS.items():
        ms, us = {}, {}
        for index, (_label, _condition, m_default, u_default) in enumerate(levels):
            if index == 0:
                continue
            m_value, u_value = trained[name].get(index, (None, None))
            m_value = _number(m_value) if m_trained else None
            ms[index] = m_default if m_value is None else (1 - M_SHRINK) * m_value + M_SHRINK * m_default
            u_value = _number(u_value) if u_trained else None
            if u_value is None:
                us[index] = u_default
            else:
                # agreements the matching pairs of the sample are expected to give
                from_matches = prior * ms[index] * u_pairs
                chance = u_value * u_pairs - from_matches - 2 * math.sqrt(from_matches)
                us[index] = max(chance / u_pairs / (1 - prior), u_floor)
        m_total, u_total = sum(ms.values()), sum(us.values())
        parameters[name] = {i: (ms[i] / m_total, us[i] / u_total) for i in ms}
    return parameters


def _label_pairs(store) -> list[tuple[int, int]]:
    """Pairs of records sharing a NIR/INS or an IPP: each record with the first holder of its key."""
    return store.fetch(
        "WITH keys AS (SELECT pidx, unnest(strong_keys) AS key FROM persons), "
        "firsts AS (SELECT key, min(pidx) AS first FROM keys GROUP BY key) "
        "SELECT DISTINCT first AS a, pidx AS b FROM keys JOIN firsts USING (key) WHERE first <> pidx "
        f"ORDER BY a, b LIMIT {MAX_LABELS}"
    )


def score_pairs(store, size: int, deterministic_pairs: int, threshold: float) -> dict:
    """Scores with Splink the pairs of person records of `store` that share a blocking key and
    keeps those at `threshold` or more in its table `pairs` (p rounded to 9 digits, a < b: pidx);
    returns what was done, for the manifest."""
    import duckdb
    import pyarrow as pa
    from splink import DuckDBAPI, Linker

    started = time.monotonic()
    connection = store.connection
    total_pairs = size * (size - 1) // 2
    prior = min(0.5, max(deterministic_pairs, 1) / max(total_pairs, 1) / RECALL_OF_DETERMINISTIC_STAGE)
    info = {
        "method": "splink",
        "splink": metadata.version("splink"),
        "duckdb": duckdb.__version__,
        "records": size,
        "seed": SEED,
        "probability_two_random_records_match": prior,
    }
    logging.getLogger("splink").setLevel(logging.ERROR)
    connection.execute("SET threads TO 1")  # one thread: sampling and sums in the same order every run
    api = DuckDBAPI(connection=connection)
    input_table, crowded = _input_table(store)
    steps = {"input": time.monotonic() - started}  # seconds by step, for the manifest
    data = api.register(input_table, table_name="records_to_link")
    labels = _label_pairs(store)
    u_trained = size >= MIN_RECORDS_U
    m_trained = len(labels) >= MIN_LABELS
    u_pairs = min(MAX_U_PAIRS, total_pairs)
    trained = {name: {} for name in COMPARISONS}
    if u_trained or m_trained:
        linker = Linker(data, _settings(prior), log_level=None)
        if u_trained:
            linker.training.estimate_u_using_random_sampling(
                max_pairs=u_pairs, seed=SEED, min_count_per_level=None, num_chunks=U_CHUNKS
            )
        if m_trained:
            table = pa.table({"unique_id_l": [a for a, _ in labels], "unique_id_r": [b for _, b in labels]})
            linker.table_management.register_table(table, "labels", overwrite=True)
            linker.training.estimate_m_from_pairwise_labels("labels")
        trained = _trained(linker.misc.save_model_to_json())
    u_floor = CHANCE_AGREEMENTS_PER_RECORD * size / max(total_pairs, 1)
    parameters = _blend(trained, prior, u_pairs, u_floor, m_trained, u_trained)
    info["u_floor"] = u_floor
    info.update(
        {
            "u_from": "random sampling" if u_trained else "defaults",
            "u_pairs_sampled": u_pairs if u_trained else 0,
            "m_from": "labelled pairs (NIR/INS or IPP)" if m_trained else "defaults",
            "labelled_pairs": len(labels),
            "max_block": MAX_BLOCK,
            "crowded_blocking_values": crowded,  # {key: {values, records}} left out of blocking
        }
    )
    info["parameters"] = {
        name: {
            levels[i][0]: {"m": round(m, 6), "u": round(u, 9), "weight": round(_level_weight(m, u), 2)}
            for i, (m, u) in values.items()
        }
        for name, values in parameters.items()
        for levels in [COMPARISONS[name]]
    }
    steps["training"] = time.monotonic() - started - steps["input"]
    info["best_possible_weight"] = round(_log_odds(prior) + _highest_weight(parameters), 2)
    if _some_pair_can_reach(prior, parameters, threshold):
        connection.execute("SET threads TO 2")  # scoring does not depend on the order of work
        linker = Linker(data, _settings(prior, parameters, _can_reach(prior, parameters, threshold)), log_level=None)
        info.update(_score_blocked_pairs(store, api, linker, threshold, steps))
    else:  # even a pair that agrees on everything stays below the threshold: nothing to block
        store.run(NEW_PAIRS_TABLE)
        info.update({"blocked_pairs": 0, "predict_chunks": 0, "predict_runs_split": 0})
        steps.update({"blocking": 0.0, "scoring": 0.0})
    info["pairs_scored_above_threshold"] = store.fetch("SELECT count(*) FROM pairs")[0][0]
    info["seconds"] = round(time.monotonic() - started, 2)
    info["seconds_by_step"] = {step: round(seconds, 2) for step, seconds in steps.items()}
    return info


def _log_odds(probability: float) -> float:
    return math.log2(probability / (1 - probability))


def _level_weight(m: float, u: float) -> float:
    """The match weight of a comparison level, as Splink computes it."""
    return math.log2(m / u)


def _needed_weight(prior: float, threshold: float) -> float:
    """The match weight less the prior's that a pair needs to reach `threshold`."""
    return _log_odds(threshold) - _log_odds(prior) - WEIGHT_TOLERANCE


def _highest_weight(parameters: dict) -> float:
    """The match weight less the prior's of a pair at the best level of every comparison (a null
    level weighs 0, so a comparison whose levels all weigh less adds nothing)."""
    return sum(max(0.0, *(_level_weight(m, u) for m, u in levels.values())) for levels in parameters.values())


def _some_pair_can_reach(prior: float, parameters: dict, threshold: float) -> bool:
    """False when the prior is so low (a large scan with few NIR/IPP links) that no pair can reach
    `threshold`, whatever it agrees on."""
    return _highest_weight(parameters) >= _needed_weight(prior, threshold)


def _can_reach(prior: float, parameters: dict, threshold: float) -> str:
    """SQL on a blocked pair (l, r of link_input): true when its best possible match weight reaches
    `threshold`."""
    return f"({_best_weight(parameters)} >= {_needed_weight(prior, threshold)!r}::DOUBLE)"


def _best_weight(parameters: dict) -> str:
    """SQL on a pair (l, r of link_input): an upper bound of its match weight less the prior's. For
    each comparison, the highest weight among the levels the pair may be at, as Splink picks them
    (the first level whose condition holds; a null level weighs 0)."""
    def bits(name: str, *indexes: int, at_least: float = -math.inf) -> str:
        best = max(at_least, *(_level_weight(*parameters[name][index]) for index in indexes))
        return f"{best!r}::DOUBLE"  # a literal with a point would be a DECIMAL

    name_else, birth_else, postcode_else, contact_else = (len(COMPARISONS[name]) - 1 for name in COMPARISONS)
    # A name without bigrams has no mask: Splink's Jaccard test then holds when neither has any.
    shared_grams = "(coalesce(bit_count(l.name_mask & r.name_mask), 0) + least(l.name_collisions, r.name_collisions))"
    name = (
        "CASE WHEN l.name_key IS NULL OR r.name_key IS NULL THEN 0.0::DOUBLE "
        f"WHEN l.name_key = r.name_key THEN {bits('name', 1)} "
        f"WHEN l.name_phonetic = r.name_phonetic THEN {bits('name', 2)} "
        f"WHEN {shared_grams} * 1.7 >= 0.7 * (l.name_grams_n + r.name_grams_n) THEN {bits('name', 3, 4, name_else)} "
        f"WHEN {shared_grams} * 1.5 >= 0.5 * (l.name_grams_n + r.name_grams_n) THEN {bits('name', 4, name_else)} "
        f"ELSE {bits('name', name_else)} END"
    )
    birth = (
        "CASE WHEN l.birth IS NULL OR r.birth IS NULL THEN 0.0::DOUBLE "
        f"WHEN l.birth = r.birth THEN {bits('birth', 1)} "
        f"WHEN l.birth = r.birth_swap THEN {bits('birth', 2)} "
        f"WHEN bit_count(l.birth_parts_mask & r.birth_parts_mask) >= 1 THEN {bits('birth', 3, birth_else)} "
        f"ELSE {bits('birth', birth_else)} END"
    )
    postcode = (
        "CASE WHEN l.postcode IS NULL OR r.postcode IS NULL THEN 0.0::DOUBLE "
        f"WHEN l.postcode = r.postcode THEN {bits('postcode', 1)} ELSE {bits('postcode', postcode_else)} END"
    )
    # No shared contact hash: the null level (no kind in common) or the lowest, whichever weighs more.
    contact = (
        f"CASE WHEN bit_count(l.contact_mask & r.contact_mask) >= 1 THEN {bits('contact', 1, contact_else, at_least=0.0)} "
        f"ELSE {bits('contact', contact_else, at_least=0.0)} END"
    )
    return f"(({name}) + ({birth}) + ({postcode}) + ({contact}))"


def _score_blocked_pairs(store, api, linker, threshold: float, steps: dict) -> dict:
    """Fills `pairs` with the blocked pairs scored at `threshold` or more. The pairs are blocked once
    for all records, then scored about PREDICT_CHUNK_PAIRS at a time (Splink reads, for each run,
    only the records its pairs hold): the work grows with the pairs, where blocking each run of
    records against all the records grew with their square. A run that DuckDB has no memory for is
    split in two and tried again (records with longer lists than foreseen), at most MAX_SPLITS times."""
    started = time.monotonic()
    blocked = linker.inference.compute_blocked_pairs_for_predict()
    blocked_pairs = store.fetch(f"SELECT count(*) FROM {blocked.physical_name}")[0][0]
    steps["blocking"] = time.monotonic() - started
    chunks = max(1, math.ceil(blocked_pairs / PREDICT_CHUNK_PAIRS))
    store.run(NEW_PAIRS_TABLE)
    # Each run: the pairs whose hash(join_key_l) % parts = part; a run split in two becomes the
    # runs (2 * parts, part) and (2 * parts, part + parts).
    runs, done, splits = [(chunks, part) for part in reversed(range(chunks))], 0, 0
    while runs:
        parts, part = runs.pop()
        store.run(
            f"CREATE OR REPLACE TABLE blocked_chunk AS SELECT * FROM {blocked.physical_name} "
            f"WHERE hash(join_key_l) % {parts} = {part}"
        )
        try:
            _score_run(store, api, linker, threshold)
        except Exception as error:
            if not _out_of_memory(error) or parts >= chunks << MAX_SPLITS:
                raise
            runs += [(2 * parts, part + parts), (2 * parts, part)]
            splits += 1
            continue
        done += 1
    store.run("DROP TABLE blocked_chunk")
    blocked.drop_table_from_database_and_remove_from_cache()
    steps["scoring"] = time.monotonic() - started - steps["blocking"]
    return {"blocked_pairs": blocked_pairs, "predict_chunks": done, "predict_runs_split": splits}


def _out_of_memory(error: BaseException | None) -> bool:
    """DuckDB ran out of memory, as raised or as the cause of Splink's own exception."""
    import duckdb

    while error is not None:
        if isinstance(error, duckdb.OutOfMemoryException):
            return True
        error = error.__cause__
    return False


def _score_run(store, api, linker, threshold: float) -> None:
    """Scores the pairs of table blocked_chunk into `pairs` (nothing is added if it fails)."""
    linker.table_management.register_blocked_pairs_for_predict(api.register("blocked_chunk"))
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    try:
        store.run(
            "INSERT INTO pairs SELECT round(match_probability, 9), least(unique_id_l, unique_id_r), "
            f"greatest(unique_id_l, unique_id_r) FROM {predictions.physical_name}"
        )
    finally:
        predictions.drop_table_from_database_and_remove_from_cache()


def compatible(a: dict, b: dict) -> bool:
    """Two groups of records may be one person: no two different NIRs, and birth dates (when both
    have one) equal, with day and month swapped, or differing in one component."""
    if a["nir"] and b["nir"] and not a["nir"] & b["nir"]:
        return False
    if a["birth"] and b["birth"]:
        return bool(a["birth"] & b["birth"] or a["birth"] & b["swap"] or a["parts"] & b["parts"])
    return True


def evidence_of_groups(store, roots, wanted) -> dict[int, dict]:
    """What `compatible` compares, for each group of records (by root in `roots`, a numpy array by
    pidx) whose root is in `wanted` (a sorted numpy array): their NIRs, birth dates, swapped birth
    dates and birth-date components."""
    import numpy as np
    import pyarrow as pa

    members = np.flatnonzero(np.isin(roots, wanted, assume_unique=False))
    table = pa.table({"pidx": members, "root": roots[members]})
    rows = store.fetch(
        "SELECT root, flatten(list(nir_keys) FILTER (WHERE nir_keys IS NOT NULL)), list(birth) FILTER (WHERE birth IS NOT NULL), "
        "list(birth_swap) FILTER (WHERE birth_swap IS NOT NULL), "
        "flatten(list(birth_parts) FILTER (WHERE birth_parts IS NOT NULL)) "
        "FROM wanted_members JOIN persons USING (pidx) GROUP BY root",
        {"wanted_members": table},
    )
    return {
        root: {"nir": set(nir or ()), "birth": set(birth or ()), "swap": set(swap or ()), "parts": set(parts or ())}
        for root, nir, birth, swap, parts in rows
    }
