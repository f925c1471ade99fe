"""The `winnow` command, run in-process with typer's CliRunner."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter

import pytest
from typer.testing import CliRunner

from winnow.cli import app
from winnow.model import default_model_path
from winnow.compiled import unbuilt
from winnow.tokens import tokenize

runner = CliRunner()


def _run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _strict_json(text: str):
    """json.loads that refuses NaN / Infinity, as most JSON parsers do."""
    def refuse(constant):
        raise ValueError(f"not valid JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture()
def page_file(tmp_path, held_out_html):
    path = tmp_path / "held_out.html"
    path.write_text(held_out_html, encoding="utf-8")
    return path


@pytest.fixture()
def binary_file(tmp_path):
    path = tmp_path / "broken.html"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    return path


# ---------------------------------------------------------------- predict


def test_predict_json_lines(tiny_model_path, page_file, tiny_model):
    result = _run("predict", page_file, "--model", tiny_model_path)
    assert result.exit_code == 0, result.output
    records = _records(result.stdout)
    expected = tiny_model.predict(page_file)
    assert len(records) == len(expected) > 0
    for n, record in enumerate(records):
        assert set(record) == {"page", "index", "text", "label", "proba"}
        assert record["page"] == str(page_file)
        assert record["index"] == n
        assert record["label"] in ("content", "comment", "chrome")
        assert set(record["proba"]) == {"content", "comment", "chrome"}
        assert sum(record["proba"].values()) == pytest.approx(1.0, abs=1e-3)
        assert max(record["proba"], key=record["proba"].get) == record["label"]
    assert [r["text"] for r in records] == expected["text"].tolist()
    assert [r["label"] for r in records] == expected["predicted"].tolist()
    assert "1 page," in result.stderr  # the summary goes to stderr, never into the JSON


def test_predict_output_file(tiny_model_path, page_file, tmp_path):
    out = tmp_path / "out" / "blocks.jsonl"
    result = _run("predict", page_file, "--model", tiny_model_path, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    records = _records(out.read_text(encoding="utf-8"))
    assert [r["index"] for r in records] == list(range(len(records)))
    assert [p.name for p in out.parent.iterdir()] == ["blocks.jsonl"]  # no scratch file left


def test_predict_directory_in_order(tiny_model_path, tmp_path, held_out_html):
    folder = tmp_path / "pages"
    (folder / "sub").mkdir(parents=True)
    for name in ("b.html", "a.html", "sub/c.html"):
        (folder / name).write_text(held_out_html, encoding="utf-8")
    result = _run("predict", folder, "--model", tiny_model_path, "-q")
    assert result.exit_code == 0, result.output
    records = _records(result.stdout)
    pages = [page for page, _ in itertools.groupby(r["page"] for r in records)]
    assert pages == [str(folder / "a.html"), str(folder / "b.html"), str(folder / "sub" / "c.html")]
    for page in pages:
        assert [r["index"] for r in records if r["page"] == page] == list(range(len(records) // 3))


def test_predict_stdin(tiny_model_path, held_out_html, page_file):
    result = _run("predict", "-", "--model", tiny_model_path, "-q", input=held_out_html.encode("utf-8"))
    assert result.exit_code == 0, result.output
    records = _records(result.stdout)
    assert records and {r["page"] for r in records} == {"-"}
    from_file = _records(_run("predict", page_file, "--model", tiny_model_path, "-q").stdout)
    assert [(r["text"], r["label"]) for r in records] == [(r["text"], r["label"]) for r in from_file]


def test_predict_text_input_format(tiny_model_path, tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<p>First line</p>\n<p>Second line</p>\n", encoding="utf-8")
    result = _run("predict", path, "--model", tiny_model_path, "-q", "--input-format", "text")
    assert result.exit_code == 0, result.output
    assert [r["text"] for r in _records(result.stdout)] == ["<p>First line</p>", "<p>Second line</p>"]


def test_batch_more_pages_than_one_chunk(tiny_model_path, tmp_path, held_out_html):
    from winnow.predict.batch import CHUNK_PAGES

    folder = tmp_path / "many"
    folder.mkdir()
    count = CHUNK_PAGES + 3
    for n in range(count):
        (folder / f"p{n:03d}.html").write_text(held_out_html, encoding="utf-8")
    result = _run("extract", folder, "--model", tiny_model_path, "-q")
    assert result.exit_code == 0, result.output
    records = _records(result.stdout)
    assert [r["page"] for r in records] == [str(folder / f"p{n:03d}.html") for n in range(count)]
    assert len({(r["title"], r["text"]) for r in records}) == 1  # the same page gives the same result in any chunk


def test_batch_with_empty_and_repeated_pages(tiny_model_path, tmp_path, page_file):
    empty = tmp_path / "empty.html"
    empty.write_text("")
    result = _run("predict", page_file, empty, page_file, "--model", tiny_model_path, "-q")
    assert result.exit_code == 0, result.output
    records = _records(result.stdout)
    assert {r["page"] for r in records} == {str(page_file)}
    half = len(records) // 2
    assert [r["index"] for r in records] == list(range(half)) * 2
    result = _run("extract", empty, "--model", tiny_model_path, "-q")
    assert result.exit_code == 0, result.output
    assert _records(result.stdout) == [{"page": str(empty), "title": "", "text": "", "comments": []}]


def test_batch_with_broken_page(tiny_model_path, tmp_path, held_out_html, binary_file):
    good1, good2 = tmp_path / "good1.html", tmp_path / "good2.html"
    good1.write_text(held_out_html, encoding="utf-8")
    good2.write_text(held_out_html, encoding="utf-8")
    result = _run("predict", good1, binary_file, good2, "--model", tiny_model_path)
    assert result.exit_code == 1
    pages = [page for page, _ in itertools.groupby(r["page"] for r in _records(result.stdout))]
    assert pages == [str(good1), str(good2)]
    assert str(binary_file) in result.stderr
    assert "binary" in result.stderr
    assert "Traceback" not in result.output


def test_batch_with_broken_page_to_file(tiny_model_path, tmp_path, page_file, binary_file):
    out = tmp_path / "out.jsonl"
    result = _run("extract", page_file, binary_file, "--model", tiny_model_path, "-o", out)
    assert result.exit_code == 1
    assert [r["page"] for r in _records(out.read_text(encoding="utf-8"))] == [str(page_file)]
    assert str(binary_file) in result.stderr


def test_failure_message_keeps_brackets_in_file_names(tiny_model_path, tmp_path):
    # Bug check: messages are printed as rich markup, so "[draft]" in a path is taken for a style tag and
    # dropped from the message (and a name with "[/]" makes rich raise MarkupError).
    folder = tmp_path / "[draft]"
    folder.mkdir()
    bad = folder / "broken.html"
    bad.write_bytes(b"\x00\x01\x02binary" * 4)
    result = _run("predict", bad, "--model", tiny_model_path, "-q")
    assert result.exit_code == 1
    assert str(bad) in result.stderr


def test_missing_model(tmp_path, page_file):
    missing = tmp_path / "no-model.joblib"
    result = _run("predict", page_file, "--model", missing)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(missing) in lines[0]
    assert "error" in lines[0]
    assert result.stdout == ""


def test_missing_input_file(tiny_model_path, tmp_path):
    missing = tmp_path / "missing.html"
    result = _run("predict", missing, "--model", tiny_model_path, "-q")
    assert result.exit_code == 1
    assert str(missing) in result.stderr


# ---------------------------------------------------------------- extract


def test_extract_json(tiny_model_path, page_file, tiny_model):
    result = _run("extract", page_file, "--model", tiny_model_path, "-f", "json", "-q")
    assert result.exit_code == 0, result.output
    [record] = _records(result.stdout)
    assert record == tiny_model.extract(page_file)
    assert set(record) == {"page", "title", "text", "comments"}
    assert record["page"] == str(page_file)


def test_extract_text(tiny_model_path, page_file, tiny_model):
    expected = tiny_model.extract(page_file)
    result = _run("extract", page_file, "--model", tiny_model_path, "-f", "text", "-q")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(expected["title"] + "\n\n")
    assert expected["text"] in out
    assert "Comments:" in out
    assert all(comment in out for comment in expected["comments"])
    assert not out.lstrip().startswith("{")


def test_extract_markdown(tiny_model_path, page_file, tiny_model):
    expected = tiny_model.extract(page_file)
    result = _run("extract", page_file, "--model", tiny_model_path, "--format", "markdown", "-q")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith(f"# {expected['title']}\n\n")
    assert "## Comments" in out
    assert f"> {expected['comments'][0]}" in out


def test_extract_bad_format(tiny_model_path, page_file):
    result = _run("extract", page_file, "--model", tiny_model_path, "-f", "pdf")
    assert result.exit_code == 2


# ---------------------------------------------------------------- train, evaluate, info


@pytest.fixture(scope="module")
def cli_model(native_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "m.joblib"
    result = _run("train", native_dir, "-o", path, "--max-iter", 10)
    assert result.exit_code == 0, result.output
    return path, result


def test_train_writes_model_and_card(cli_model):
    path, result = cli_model
    assert path.is_file()
    card_path = path.with_name("m.card.json")
    assert card_path.is_file()
    card = json.loads(card_path.read_text())
    assert card["params"]["max_iter"] == 10
    assert card["params"]["chrome_share"] == 1.0  # without a preset every chrome block is fitted on
    assert card["labels"] == ["chrome", "comment", "content"]
    assert card["training_data"]["datasets"][0]["pages"] == 12
    assert str(path) in result.stderr


def test_train_chrome_share(native_dir, tmp_path):
    result = _run("train", native_dir, "-o", tmp_path / "m.joblib", "--max-iter", 5, "--chrome-share", 0.5)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "m.card.json").read_text())["params"]["chrome_share"] == 0.5
    result = _run("train", native_dir, "-o", tmp_path / "m.joblib", "--chrome-share", 0)
    assert result.exit_code != 0 and "--chrome-share" in result.output


def test_train_card_is_strict_json(cli_model):
    # Bug check: native pages have no alignment coverage, so the card holds NaN, which is not JSON.
    path, _ = cli_model
    _strict_json(path.with_name("m.card.json").read_text())


def test_evaluate_json(cli_model, native_dir):
    path, _ = cli_model
    result = _run("evaluate", native_dir, "--model", path, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"tokens", "blocks", "pages", "worst_pages", "alignment"} <= set(report)
    assert report["pages"] == 12
    assert set(report["tokens"]) == {"content", "comment"}
    assert report["blocks"]["confusion"]["labels"] == ["content", "comment", "chrome"]
    assert sum(map(sum, report["blocks"]["confusion"]["matrix"])) == report["blocks_total"]
    assert report["blocks"]["accuracy"] > 0.9  # scored on its own training pages


def test_evaluate_json_is_strict_json(cli_model, native_dir):
    # Bug check: `--json` prints NaN (token scores and coverage of native pages), which is not JSON.
    path, _ = cli_model
    result = _run("evaluate", native_dir, "--model", path, "--json")
    assert result.exit_code == 0, result.output
    _strict_json(result.stdout)


def test_evaluate_native_token_scores(tiny_model, native_dir):
    # Bug check: native pages carry no gold text, so token scores on them are empty (macro NaN, micro 0)
    # even for a model that labels every block right. Their gold text is the text of their labeled blocks.
    from winnow.train.evaluate import evaluate

    report = evaluate(tiny_model, [str(native_dir)])
    assert report["blocks"]["per_label"]["content"]["f1"] > 0.9
    assert report["tokens"]["content"]["pages"] == 12
    assert report["tokens"]["content"]["f1"] > 0.9


def test_evaluate_markdown(cli_model, native_dir):
    path, _ = cli_model
    result = _run("evaluate", native_dir, "--model", path, "--markdown")
    assert result.exit_code == 0, result.output
    assert "| part | pages | precision |" in result.stdout
    assert "|---|" in result.stdout
    assert "### Blocks" in result.stdout


def test_evaluate_terminal_report(cli_model, native_dir):
    path, _ = cli_model
    result = _run("evaluate", native_dir, "--model", path)
    assert result.exit_code == 0, result.output
    assert "Confusion" in result.stdout


def test_evaluate_html(cli_model, native_dir, tmp_path):
    path, _ = cli_model
    out = tmp_path / "reports" / "report.html"
    result = _run("evaluate", native_dir, "--model", path, "--html", out)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("<svg") >= 6
    assert "Confusion" in result.stdout  # the terminal report is printed as well
    assert str(out) in result.stderr
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no scratch file left


def test_evaluate_html_unwritable(cli_model, native_dir, tmp_path):
    path, _ = cli_model
    result = _run("evaluate", native_dir, "--model", path, "--html", tmp_path)  # a folder, not a file
    assert result.exit_code == 2
    assert "cannot write the HTML report" in result.stderr
    assert "Traceback" not in result.output


def test_evaluate_cross_validation(native_dir):
    result = _run("evaluate", native_dir, "--cv", 3, "--group-by", "page", "--max-iter", 5)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "3-fold cross-validation grouped by page" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.split() and line.split()[0] in
            ("1", "2", "3", "mean", "std")}
    assert set(rows) == {"1", "2", "3", "mean", "std"}
    assert all(re.search(r"\d\.\d{3}", row) for row in rows.values())  # per-fold and summary numbers
    assert "fold 3/3" in result.stderr  # progress goes to stderr


@pytest.mark.parametrize("args, message", [
    (("--cv", 3, "--model", "m.joblib"), "leave out --model"),
    (("--group-by", "page"), "goes with --cv"),
    (("--max-iter", 5), "goes with --cv"),
    (("--cv-add", "wcxb-dev"), "goes with --cv"),
    (("--cv", 1), "--cv"),
    (("--cv", 3, "--html", "r.html"), "--html"),
])
def test_evaluate_cross_validation_option_errors(native_dir, args, message):
    result = _run("evaluate", native_dir, *args)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())  # the message may wrap in its box


def test_evaluate_cross_validation_too_few_groups(tmp_path):
    for n in range(2):
        (tmp_path / f"p{n}.txt").write_text(f"content\tLine {n} of the article.\nchrome\tMenu\n")
    result = _run("evaluate", tmp_path, "--cv", 3)
    assert result.exit_code == 2
    assert "3 folds need at least 3 groups" in result.stderr


def test_info(cli_model):
    path, _ = cli_model
    result = _run("info", "--model", path)
    assert result.exit_code == 0, result.output
    assert "labels chrome, comment, content" in result.stdout
    assert "native" in result.stdout
    assert "has all its compiled modules" in result.stdout if not unbuilt() else \
        all(f"lacks {name}" in result.stdout for name in unbuilt())
    result = _run("info", "--model", path, "--json")
    assert json.loads(result.stdout)["labels"] == ["chrome", "comment", "content"]


def test_train_without_data():
    result = _run("train")
    assert result.exit_code == 2
    assert "name the training data" in result.stderr


def test_train_unknown_preset():
    result = _run("train", "--preset", "nope")
    assert result.exit_code == 2
    assert "nope" in result.stderr


def test_train_refuses_test_pages_in_training_data(native_dir, tmp_path):
    result = _run("train", native_dir, "--test", native_dir, "-o", tmp_path / "m.joblib", "--max-iter", 5)
    assert result.exit_code == 2
    assert "also in the training data" in result.stderr
    assert not (tmp_path / "m.joblib").exists()


def test_train_refuses_a_single_label(tmp_path):
    for n in range(3):
        (tmp_path / f"p{n}.txt").write_text(f"content\tLine {n} of the article.\ncontent\tAnother line.\n")
    result = _run("train", tmp_path, "-o", tmp_path / "m.joblib", "--max-iter", 5)
    assert result.exit_code == 2
    assert "one label" in result.stderr


def test_evaluate_unknown_dataset(cli_model, tmp_path, monkeypatch):
    path, _ = cli_model
    monkeypatch.chdir(tmp_path)
    result = _run("evaluate", "no-such-dataset", "--model", path)
    assert result.exit_code == 2
    assert "no-such-dataset" in result.stderr
    assert "Traceback" not in result.output


def test_train_unknown_label_is_a_clear_error(tmp_path):
    # Bug check: label_page raises ValueError for an unknown data-label, which _clear_errors does not catch:
    # the user gets a traceback (exit code 1) instead of the one-line error the other data errors give.
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><div data-label="article"><p>Text.</p></div><p>x</p></body></html>')
    result = _run("train", tmp_path, "-o", tmp_path / "m.joblib", "--max-iter", 5)
    assert result.exit_code == 2
    assert str(bad) in result.stderr
    assert not (tmp_path / "m.joblib").exists()


# ---------------------------------------------------------------- the shipped default model


def test_default_model_extracts_a_dragnet_page(shared_datasets):
    if not default_model_path().is_file():
        pytest.skip(f"default model {default_model_path()} not built yet (winnow train --preset default)")
    from winnow.train.datasets import iter_dataset, unpacked

    gold = next(iter_dataset("dragnet:test", shared_datasets))
    html_file = unpacked("dragnet", shared_datasets) / "HTML" / f"{gold.page.id.split('/', 1)[1]}.html"
    result = _run("extract", html_file, "-q")
    assert result.exit_code == 0, result.output
    [record] = _records(result.stdout)
    found, wanted = Counter(tokenize(record["title"] + " " + record["text"])), Counter(tokenize(gold.gold_content))
    recall = sum((found & wanted).values()) / sum(wanted.values())
    precision = sum((found & wanted).values()) / max(1, sum(found.values()))
    assert recall > 0.5 and precision > 0.5, (precision, recall)
