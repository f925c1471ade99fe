"""benchmarks/compare_peers.py: the shingle metric by hand, peer failures, and a 3-page run of the whole script."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from conftest import make_article_page
from winnow.pages import Page

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_peers.py"


@pytest.fixture(scope="module")
def compare_peers():
    """The script as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("compare_peers", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_peers"] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("compare_peers", None)


def test_shingles_are_lowercased_word_4grams(compare_peers):
    assert compare_peers.shingles("The cat sat on the mat.") == {
        ("the", "cat", "sat", "on"), ("cat", "sat", "on", "the"), ("sat", "on", "the", "mat")}
    assert compare_peers.shingles("") == set()
    assert compare_peers.shingles("Too short") == {("too", "short")}  # one shingle, not none


def test_shingle_f1_hand_computed(compare_peers):
    gold = "a b c d e f"  # shingles abcd bcde cdef
    predicted = "x a b c d e y"  # shingles xabc abcd bcde cdey
    assert compare_peers.shingle_counts(predicted, gold) == (2, 4, 3)
    precision, recall, f1 = compare_peers.shingle_prf(predicted, gold)
    assert precision == pytest.approx(2 / 4)
    assert recall == pytest.approx(2 / 3)
    assert f1 == pytest.approx(2 * (1 / 2) * (2 / 3) / (1 / 2 + 2 / 3))  # 4/7
    # Sets, not bags: a repeated passage is not counted twice; the order of words matters.
    assert compare_peers.shingle_prf(gold + " " + gold, gold)[1] == 1.0
    assert compare_peers.shingle_prf("f e d c b a", gold) == (0.0, 0.0, 0.0)
    assert compare_peers.shingle_prf("", "") == (1.0, 1.0, 1.0)
    assert compare_peers.shingle_prf("", gold) == (0.0, 0.0, 0.0)


def test_score_pages_macro_skips_pages_without_gold(compare_peers):
    scores = compare_peers.score_pages(["a b c d", "a b", "noise words"], ["a b c d", "a b c d", ""])
    tokens = scores["tokens"]
    assert tokens["pages"] == 2 and scores["shingles"]["pages"] == 2
    assert tokens["precision"] == pytest.approx(1.0)
    assert tokens["recall"] == pytest.approx((1 + 0.5) / 2)
    # Micro pools all pages, the one without gold too: overlap 6, predicted 8, gold 8.
    assert tokens["micro_precision"] == pytest.approx(6 / 8)
    assert tokens["micro_recall"] == pytest.approx(6 / 8)
    assert scores["shingles"]["f1"] == pytest.approx((1.0 + 0.0) / 2)


def test_missing_and_failing_peers_never_crash(compare_peers, tiny_model):
    pages = [Page(f"p{i}", make_article_page(i, labeled=False), "html") for i in range(3)]
    gold = ["some gold words here"] * 3

    def missing():
        raise ImportError("No module named 'nothing'")

    def flaky():
        def extract(html: str) -> str:
            if "p1" in seen:
                raise RuntimeError("boom")
            seen.append("p1")
            return "some gold words"
        return extract

    seen: list[str] = []
    peers = {"missing": compare_peers.Peer("missing", "nothing", missing, "-"),
             "flaky": compare_peers.Peer("flaky", "nothing", flaky, "-")}
    original = dict(compare_peers.PEERS)
    compare_peers.PEERS.update(peers)
    try:
        results = compare_peers.benchmark(pages, gold, ["winnow", "missing", "flaky"], tiny_model)
    finally:
        compare_peers.PEERS.clear()
        compare_peers.PEERS.update(original)
    by_name = {r.name: r for r in results}
    assert by_name["missing"].status == "not installed" and by_name["missing"].texts == []
    flaky_result = by_name["flaky"]
    # The warm-up call succeeded once; every timed call then raised: each page is empty text and an error.
    assert flaky_result.status == "ok" and flaky_result.texts == ["", "", ""] and len(flaky_result.errors) == 3
    assert flaky_result.scores["tokens"]["f1"] == 0.0
    winnow_result = by_name["winnow"]
    assert len(winnow_result.texts) == 3 and not winnow_result.errors
    assert all(text.strip() for text in winnow_result.texts)
    assert compare_peers.PARSE_FLOOR in by_name
    report = compare_peers.build_report("test", pages, gold, results, None, [])
    rows = {row[0]: row for row in compare_peers.table_rows(report)}
    assert rows["missing"][2] == "not installed"


def test_winnow_text_is_title_then_body(compare_peers):
    assert compare_peers.winnow_text({"title": "Head", "text": "Body.", "comments": []}) == "Head\n\nBody."
    assert compare_peers.winnow_text({"title": "", "text": "Body.", "comments": ["c"]}) == "Body."


def test_training_overlap_is_detected(compare_peers):
    trained = ["dragnet:train", "wcxb-dev", "cleaneval", "wcxb-dev@text"]
    assert compare_peers.trained_on("dragnet:test", trained) == []
    assert compare_peers.trained_on("dragnet", trained) == ["dragnet:train"]
    assert compare_peers.trained_on("wcxb-dev", trained) == ["wcxb-dev"]
    assert compare_peers.trained_on("cleanportaleval", trained) == []


def test_main_on_three_dragnet_pages(compare_peers, shared_datasets, tiny_model_path, tmp_path, capsys):
    installed = [name for name, peer in compare_peers.PEERS.items() if _importable(peer)]
    if not installed:
        print("no peer installed (pip install '.[peers]'): only winnow is compared")
    out = tmp_path / "peers.json"
    code = compare_peers.main(["--data", "dragnet:test", "--limit", "3", "--model", str(tiny_model_path),
                               "--datasets", str(shared_datasets), "--json", str(out), "--markdown"])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["data"] == "dragnet:test" and report["pages"] == 3
    tools = {tool["name"]: tool for tool in report["tools"]}
    assert set(tools) == {compare_peers.PARSE_FLOOR, *compare_peers.TOOLS}
    for name in ("winnow", *installed):
        tool = tools[name]
        assert tool["status"] == "ok" and tool["pages"] == 3, tool
        assert tool["pages_per_second"] > 0
        for metric in ("precision", "recall", "f1", "micro_f1"):
            assert 0.0 <= tool["tokens"][metric] <= 1.0
        assert 0.0 <= tool["shingles"]["f1"] <= 1.0
    for name in set(compare_peers.PEERS) - set(installed):
        assert tools[name]["status"] == "not installed"
    if "trafilatura" in installed:
        assert tools["trafilatura"]["speed_vs_trafilatura"] == pytest.approx(1.0)
    markdown = capsys.readouterr().out
    assert "\n| tool |" in "\n" + markdown and "| winnow |" in markdown


def _importable(peer) -> bool:
    try:
        peer.factory()
    except ImportError:
        return False
    return True


def test_cross_validated_winnow_runs_each_page_once_with_a_model_not_fitted_on_it(compare_peers, native_dir,
                                                                                  monkeypatch, tmp_path):
    from winnow.train.datasets import iter_dataset
    from winnow.train.fit import fit_blocks as real_fit_blocks

    pages = [gold.page for gold in iter_dataset(str(native_dir))]
    fitted_on: list[set[str]] = []

    def recording_fit(blocks, **params):
        fitted_on.append(set(blocks["page"]))
        return real_fit_blocks(blocks, **{**params, "max_iter": 10})

    monkeypatch.setattr("winnow.train.fit.fit_blocks", recording_fit)
    extracted: list[set[str]] = []
    real_run = compare_peers.run_winnow
    monkeypatch.setattr(compare_peers, "run_winnow", lambda model, fold: extracted.append({p.id for p in fold})
                        or real_run(model, fold))
    added_dir = tmp_path / "added"
    added_dir.mkdir()
    for seed in (40, 41):
        (added_dir / f"extra{seed}.html").write_text(make_article_page(seed), encoding="utf-8")
    added = {gold.page.id for gold in iter_dataset(str(added_dir))}
    result = compare_peers.run_winnow_cv(pages, str(native_dir), 3, None, add=[str(added_dir)])
    assert len(result.texts) == len(pages) and all(result.texts) and not result.errors
    assert len(fitted_on) == len(extracted) == 3
    assert set().union(*extracted) == {p.id for p in pages} and sum(map(len, extracted)) == len(pages)
    for trained, held_out in zip(fitted_on, extracted):
        assert not trained & held_out
        assert added <= trained  # --cv-add pages join every fold's training pages


@pytest.mark.parametrize("argv, problem", [
    (["--cv-add", "cleaneval"], "--cv-add needs --cv"),
    (["--data", "wcxb-dev", "--cv", "3", "--cv-add", "dragnet:train,wcxb-dev"], "must not hold pages of --data"),
])
def test_cv_add_refuses_what_would_not_be_cross_validation(compare_peers, argv, problem, capsys):
    with pytest.raises(SystemExit):
        compare_peers.parse_args(argv)
    assert problem in capsys.readouterr().err


def test_cv_add_is_parsed_into_specs(compare_peers):
    args = compare_peers.parse_args(["--data", "wcxb-dev", "--cv", "3", "--cv-add", "dragnet:train, cleaneval"])
    assert args.cv_add == ["dragnet:train", "cleaneval"]


def test_token_f1_by_page_type_averages_each_type_over_its_pages_with_gold(compare_peers):
    gold = ["a b c d", "a b c d", "", "x y"]
    kinds = ["article", "article", "article", "forum"]
    good = compare_peers.Result("good", "1")
    good.texts, good.scores = ["a b c d", "a b", "", "x y"], compare_peers.score_pages(["a b c d", "a b", "", "x y"], gold)
    bad = compare_peers.Result("bad", "1")
    bad.texts, bad.scores = ["", "", "junk", "q"], compare_peers.score_pages(["", "", "junk", "q"], gold)
    pages = [Page(f"p{n}", "", "html") for n in range(4)]
    report = compare_peers.build_report("typed", pages, gold, [good, bad], None, [], kinds)
    by_kind = report["token_f1_by_page_type"]
    # article: pages 1 (F1 1) and 2 (P 1, R 0.5, F1 2/3); page 3 has no gold and is left out.
    assert by_kind["article"] == {"pages": 3, "good": pytest.approx((1 + 2 / 3) / 2), "bad": 0.0}
    assert by_kind["forum"] == {"pages": 1, "good": 1.0, "bad": 0.0}
    markdown = compare_peers.markdown_table(report)
    assert "| page type | pages | good | bad |" in markdown and "| article | 3 | 0.833 | 0.000 |" in markdown
    untyped = compare_peers.build_report("untyped", pages, gold, [good], None, [])
    assert untyped["token_f1_by_page_type"] == {}
    # Page by page: the same F1s, None where the gold has no token; no type where the set has none.
    assert report["page_scores"][1] == {"page": "p1", "type": "article", "token_f1": {"good": pytest.approx(2 / 3),
                                                                                       "bad": 0.0}}
    assert report["page_scores"][2]["token_f1"] == {"good": None, "bad": None}
    assert [row["page"] for row in report["page_scores"]] == ["p0", "p1", "p2", "p3"]
    assert untyped["page_scores"][3] == {"page": "p3", "type": None, "token_f1": {"good": 1.0}}
