"""The hash chain, as pure functions: it names the first entry altered, removed or inserted."""

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from garde.lib.chain import GENESIS, Link, link_hash, verify_chain


def build(texts):
    links, prev = [], GENESIS
    for seq, text in enumerate(texts, start=1):
        content = {"seq": seq, "text": text}
        digest = link_hash(content, prev)
        links.append(Link(seq, content, prev, digest))
        prev = digest
    return links


def test_it_accepts_an_intact_chain():
    report = verify_chain(build(["a", "b", "c"]))
    assert report.ok and report.checked == 3


def test_it_names_an_altered_entry():
    links = build(["a", "b", "c"])
    links[1] = replace(links[1], content={"seq": 2, "text": "B"})
    report = verify_chain(links)
    assert (report.first_break.seq, report.first_break.problem) == (2, "altered")
    assert "#2" in report.first_break.message and report.checked == 1


def test_it_names_a_removed_entry():
    links = build(["a", "b", "c", "d"])
    del links[1]
    report = verify_chain(links)
    assert (report.first_break.seq, report.first_break.problem) == (2, "removed")


def test_it_names_a_removed_last_entry_only_by_the_missing_tail():
    # Removing the newest entry leaves a valid shorter chain: the exported last hash reveals it.
    links = build(["a", "b", "c"])
    full = verify_chain(links)
    shorter = verify_chain(links[:-1])
    assert shorter.ok and shorter.last_hash != full.last_hash


def test_it_names_an_inserted_entry():
    links = build(["a", "b", "c"])
    forged_content = {"seq": 3, "text": "forged"}
    forged = Link(3, forged_content, "f" * 64, link_hash(forged_content, "f" * 64))
    report = verify_chain([links[0], links[1], forged, replace(links[2], seq=4)])
    assert (report.first_break.seq, report.first_break.problem) == (3, "inserted")


def test_it_names_a_duplicated_number_as_inserted():
    links = build(["a", "b"])
    report = verify_chain([links[0], links[1], links[1]])
    assert report.first_break.problem == "inserted"


@given(st.lists(st.text(max_size=20), min_size=1, max_size=12), st.data())
def test_it_detects_any_single_alteration(texts, data):
    links = build(texts)
    index = data.draw(st.integers(0, len(links) - 1))
    links[index] = replace(links[index], content={**links[index].content, "text": links[index].content["text"] + "x"})
    report = verify_chain(links)
    assert report.first_break.seq == index + 1
