"""Batches at scale: input sources, WARC archives, worker processes, resuming an interrupted run."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import make_article_page
from winnow.cli import app
from winnow.model import load_model
from winnow.predict import batch, formats
from winnow.predict.batch import BatchOptions, extract_to, predict_to
from winnow.predict.output import resumable_output, scratch_path
from winnow.predict.sources import Failure, expand_inputs, iter_pages

runner = CliRunner()


def _pages(folder: Path, count: int, broken: tuple[int, ...] = ()) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"p{n:03d}.html"
        path.write_bytes(b"\x00\x01binary" * 50 if n in broken else make_article_page(2000 + n, labeled=False).encode())
        paths.append(str(path))
    return paths


def _warc_record(headers: dict[str, str], block: bytes) -> bytes:
    head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in {**headers, "Content-Length": str(len(block))}.items())
    return gzip.compress(head.encode() + b"\r\n" + block + b"\r\n\r\n")  # one gzip member per record, as crawlers write


def _http_response(status: str, content_type: str, body: bytes) -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def write_warc(path: Path) -> list[str]:
    """A small WARC: a request, two HTML pages (one URL twice), a 404, an image, a latin-1 page. Returns
    the ids of the pages winnow should find, in order."""
    def response(url: str, status: str, content_type: str, body: bytes, n: int) -> bytes:
        return _warc_record({"WARC-Type": "response", "WARC-Target-URI": url, "WARC-Record-ID": f"<urn:uuid:{n}>",
                             "Content-Type": "application/http; msgtype=response"},
                            _http_response(status, content_type, body))
    article = make_article_page(3000, labeled=False).encode()
    latin = "<html><body><p>Caf\xe9 cr\xe8me, a sentence long enough to be kept as a paragraph of text.</p></body></html>"
    records = [
        _warc_record({"WARC-Type": "warcinfo", "WARC-Record-ID": "<urn:uuid:0>", "Content-Type": "application/warc-fields"},
                     b"software: winnow tests\r\n"),
        _warc_record({"WARC-Type": "request", "WARC-Target-URI": "https://a.example/1", "WARC-Record-ID": "<urn:uuid:1>",
                      "Content-Type": "application/http; msgtype=request"}, b"GET /1 HTTP/1.1\r\nHost: a.example\r\n\r\n"),
        response("https://a.example/1", "200 OK", "text/html; charset=utf-8", article, 2),
        response("https://a.example/missing", "404 Not Found", "text/html", b"<html><body>Not found</body></html>", 3),
        response("https://a.example/logo.png", "200 OK", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, 4),
        response("https://a.example/latin", "200 OK", "text/html; charset=iso-8859-1", latin.encode("latin-1"), 5),
        response("https://a.example/1", "200 OK", "text/html", article, 6),
    ]
    path.write_bytes(b"".join(records))
    return ["https://a.example/1", "https://a.example/latin", "https://a.example/1#2"]


def test_warc_pages_are_the_html_responses(tmp_path):
    expected = write_warc(tmp_path / "crawl.warc.gz")
    pages = list(iter_pages([str(tmp_path / "crawl.warc.gz")]))
    assert [page.id for page in pages] == expected
    assert "Café crème" in pages[1].text  # the HTTP header's charset decoded it
    assert pages[0].kind == "html"


def test_warc_through_extract_and_a_broken_archive(tmp_path, tiny_model_path):
    expected = write_warc(tmp_path / "crawl.warc.gz")
    (tmp_path / "text.warc.gz").write_bytes(gzip.compress(b"this is not a WARC file at all\r\n\r\n"))
    (tmp_path / "random.warc").write_bytes(bytes(range(256)) * 10)
    result = runner.invoke(app, ["extract", str(tmp_path), "--model", str(tiny_model_path), "-q", "--jobs", "1"])
    assert result.exit_code == 1  # the broken archives are failures; the good one's pages come out
    assert [json.loads(line)["page"] for line in result.stdout.splitlines()] == expected
    assert f"failed: {tmp_path / 'text.warc.gz'}: cannot read the archive (record 1 is not a WARC" in result.stderr
    assert f"failed: {tmp_path / 'random.warc'}: cannot read the archive (ArchiveLoadFailed" in result.stderr


def test_empty_archive(tmp_path):
    (tmp_path / "empty.warc").write_bytes(b"")
    assert list(iter_pages([str(tmp_path / "empty.warc")])) == [
        Failure(str(tmp_path / "empty.warc"), "cannot read the archive (no WARC or ARC records in it)")]


def test_uncompressed_warc(tmp_path):
    write_warc(tmp_path / "c.warc.gz")
    (tmp_path / "plain.warc").write_bytes(gzip.decompress((tmp_path / "c.warc.gz").read_bytes()))
    assert [p.id for p in iter_pages([str(tmp_path / "plain.warc")])] == [p.id for p in iter_pages([str(tmp_path / "c.warc.gz")])]


def test_globs_list_files_and_missing_inputs(tmp_path):
    paths = _pages(tmp_path / "site" / "a", 2) + _pages(tmp_path / "site" / "b", 1)
    listing = tmp_path / "list.txt"
    listing.write_text(f"# pages to do\n{paths[2]}\n\n{tmp_path / 'nowhere.html'}\n")
    sources = expand_inputs([str(tmp_path / "site" / "**" / "*.html")], str(listing))
    assert sources == sorted(paths) + [paths[2], str(tmp_path / "nowhere.html")]
    items = list(iter_pages(sources))
    assert isinstance(items[-1], Failure) and items[-1].page == str(tmp_path / "nowhere.html")
    assert expand_inputs([str(tmp_path / "*.nothing")]) == [str(tmp_path / "*.nothing")]  # reported as missing later


def test_from_file_on_the_command_line(tmp_path, tiny_model_path):
    paths = _pages(tmp_path / "pages", 3)
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(paths[::-1]) + "\n")
    result = runner.invoke(app, ["extract", "--from-file", str(listing), "--model", str(tiny_model_path), "-q"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["page"] for line in result.stdout.splitlines()] == paths[::-1]
    result = runner.invoke(app, ["extract", "--model", str(tiny_model_path)])
    assert result.exit_code == 2 and "no pages given" in result.stderr


def test_a_batch_that_finds_no_page_says_where_it_looked(tmp_path, tiny_model_path):
    folder, listing = tmp_path / "crawl", tmp_path / "list.txt"
    folder.mkdir()
    (folder / "notes.md").write_text("not a page")
    listing.write_text("# nothing yet\n")
    result = runner.invoke(app, ["predict", str(folder), "--model", str(tiny_model_path)])
    assert result.exit_code == 2 and f"no page files in {folder}" in result.stderr and ".warc.gz" in result.stderr
    result = runner.invoke(app, ["predict", "--from-file", str(listing), "--model", str(tiny_model_path)])
    assert result.exit_code == 2 and f"{listing}: lists no pages" in result.stderr


def _run(model, paths, **options) -> tuple[str, batch.BatchSummary]:
    import io

    out = io.StringIO()
    summary = predict_to(model, paths, out, BatchOptions(**options))
    return out.getvalue(), summary


def test_workers_give_the_same_output_as_one_process(tmp_path, tiny_model_path, monkeypatch):
    monkeypatch.setattr(batch, "CHUNK_PAGES", 4)  # several chunks per worker (workers re-import: default 64 there)
    model = load_model(tiny_model_path)
    paths = _pages(tmp_path, 20, broken=(7,))
    single, single_summary = _run(model, paths, jobs=1)
    parallel, parallel_summary = _run(model, paths, jobs=2)
    assert parallel == single
    assert parallel_summary.failures == single_summary.failures == [(paths[7], "binary data, not a web page")]
    assert parallel_summary.pages == 19
    unordered, _ = _run(model, paths, jobs=2, ordered=False)
    assert sorted(unordered.splitlines()) == sorted(single.splitlines())


def test_a_dying_worker_fails_its_pages_not_the_batch(tmp_path, tiny_model_path, monkeypatch):
    model = load_model(tiny_model_path)
    paths = _pages(tmp_path, 3)
    monkeypatch.setattr(batch, "_worker_chunk", _exit_abruptly)
    _, summary = _run(model, paths, jobs=2)
    assert summary.pages == 0
    assert [page for page, _ in summary.failures] == paths
    assert all("worker process died" in reason for _, reason in summary.failures)


def _exit_abruptly(chunk):
    import os

    os._exit(3)


def test_resume_after_an_interruption_gives_the_uninterrupted_output(tmp_path, tiny_model_path):
    paths = _pages(tmp_path / "pages", 9, broken=(4,))
    whole = tmp_path / "whole.jsonl"
    result = runner.invoke(app, ["predict", *paths, "--model", str(tiny_model_path), "-o", str(whole), "-q"])
    assert result.exit_code == 1

    # A hard kill while page 6 was being written: the scratch file ends in the middle of its lines.
    out = tmp_path / "out.jsonl"
    written = whole.read_text().splitlines(keepends=True)
    done_pages = {paths[0], paths[1], paths[2], paths[3], paths[5]}
    kept = [line for line in written if json.loads(line)["page"] in done_pages]
    page6 = [line for line in written if json.loads(line)["page"] == paths[6]]
    scratch_path(out).write_text("".join(kept + page6[:2]) + page6[2][:10])

    result = runner.invoke(app, ["predict", *paths, "--model", str(tiny_model_path), "-o", str(out), "--resume"])
    assert result.exit_code == 1  # the broken page is still reported
    assert "5 already done" in result.stderr
    assert out.read_text() == whole.read_text()
    assert not scratch_path(out).exists()
    # Resuming a finished output does nothing more but redo its last page.
    result = runner.invoke(app, ["predict", *paths, "--model", str(tiny_model_path), "-o", str(out), "--resume", "-q"])
    assert out.read_text() == whole.read_text()


def test_resume_refuses_what_it_cannot_resume(tmp_path, tiny_model_path):
    paths = _pages(tmp_path / "pages", 1)
    result = runner.invoke(app, ["extract", *paths, "--model", str(tiny_model_path), "--resume"])
    assert result.exit_code == 2 and "--resume needs --output" in result.stderr
    result = runner.invoke(app, ["extract", *paths, "--model", str(tiny_model_path), "--resume", "-o",
                                 str(tmp_path / "o.txt"), "--format", "text"])
    assert result.exit_code == 2 and "--resume needs JSON output" in result.stderr
    not_ours = tmp_path / "other.jsonl"
    not_ours.write_text("just some text\n")
    result = runner.invoke(app, ["extract", *paths, "--model", str(tiny_model_path), "--resume", "-o", str(not_ours)])
    assert result.exit_code == 2 and "cannot resume" in result.stderr
    assert not_ours.read_text() == "just some text\n"  # left as it was


def test_resumable_output_on_a_new_file(tmp_path):
    target = tmp_path / "new.jsonl"
    with resumable_output(str(target)) as (out, done):
        assert done == set()
        out.write('{"page": "a"}\n')
    assert target.read_text() == '{"page": "a"}\n'


def test_extract_with_workers_matches(tmp_path, tiny_model_path):
    import io

    model = load_model(tiny_model_path)
    paths = _pages(tmp_path, 5)
    outputs = []
    for jobs in (1, 2):
        out = io.StringIO()
        extract_to(model, paths, out, "markdown", BatchOptions(jobs=jobs))
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1] and outputs[0].count("# ") >= 5


@pytest.mark.parametrize("jobs, pages, expected", [(3, 1, 3), (0, 1, 1), (0, 200, 1), (0, 100_000, None)])
def test_resolve_jobs(jobs, pages, expected):
    import os

    # By default, few pages are not worth a worker's start-up; many get one worker per core.
    assert batch.resolve_jobs(jobs, [f"p{n}.html" for n in range(pages)]) == (expected or os.cpu_count())


def test_resolve_jobs_for_archives_and_batches_two_workers_pay_for(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert batch.resolve_jobs(0, ["x.warc.gz"]) == 8  # pages not counted beforehand
    enough = 2 * batch.CHUNKS_PER_WORKER * batch.CHUNK_PAGES
    assert batch.resolve_jobs(0, ["p.html"] * enough) == 2
    assert batch.resolve_jobs(0, ["p.html"] * (enough - batch.CHUNK_PAGES)) == 1  # a chunk fewer


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("dask.distributed", reason="Dask is not installed (pip install 'winnow[dask]')")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_run_matches_the_local_run(tmp_path, tiny_model_path, dask_client):
    from winnow.predict.on_dask import run_on_dask

    model = load_model(tiny_model_path)
    paths = _pages(tmp_path / "pages", 7, broken=(3,))
    write_warc(tmp_path / "pages" / "crawl.warc.gz")
    sources = expand_inputs([str(tmp_path / "pages")])
    local, local_summary = _run(model, sources, jobs=1)
    summary = run_on_dask(dask_client, model, sources, str(tmp_path / "out"), pages_per_partition=3)
    parts = sorted((tmp_path / "out").glob("part-*.jsonl"))
    assert [p.name for p in parts] == [f"part-{n:05d}.jsonl" for n in range(4)]  # 3 + 3 + 1 pages, the archive
    assert "".join(p.read_text() for p in parts) == local
    assert summary.pages == local_summary.pages == 9 and summary.failures == local_summary.failures
    # resume: a lost part is done again, the others are kept
    parts[1].unlink()
    kept = parts[0].stat().st_mtime_ns
    run_on_dask(dask_client, model, sources, str(tmp_path / "out"), pages_per_partition=3, resume=True)
    assert "".join(p.read_text() for p in parts) == local
    assert parts[0].stat().st_mtime_ns == kept
    assert paths[3] in {page for page, _ in summary.failures}


def test_dask_on_the_command_line(tmp_path, tiny_model_path, dask_client):
    paths = _pages(tmp_path / "pages", 4)
    local = runner.invoke(app, ["extract", *paths, "--model", str(tiny_model_path), "-q"])
    result = runner.invoke(app, ["extract", *paths, "--model", str(tiny_model_path), "-q", "-o", str(tmp_path / "out"),
                                 "--dask-scheduler", dask_client.scheduler.address])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "part-00000.jsonl").read_text() == local.stdout
    result = runner.invoke(app, ["extract", *paths, "--model", str(tiny_model_path), "--dask-scheduler", "local"])
    assert result.exit_code == 2 and "output folder" in result.output


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
def test_predict_lines_are_what_json_dumps_writes(compiled, monkeypatch):
    """format_blocks writes its JSON by hand (for speed), in C or in Python: each line must be json.dumps of
    the record."""
    import pandas as pd

    if compiled and formats._compiled is None:
        pytest.skip("winnow._jsonlines is not built")
    if not compiled:
        monkeypatch.setattr(formats, "_compiled", None)

    from winnow.pages import Page

    texts = ['He said "hi"\\there', "tab\tand\nnewline \x00\x1f\b\f\r\x7f", "Ünïcödé — 中文 😀 \u2028", ""]
    blocks = pd.DataFrame({"page": "p", "index": range(4), "text": texts,
                           "predicted": ["content", "comment", "chrome", "chrome"], "proba_chrome": [0.1, 1 / 3, 1.0, 0.0], "proba_comment": [0.2, 1e-7, 0.0, 0.5],
                           "proba_content": [0.7, 0.66666, 0.0, 0.5]})
    labels = ["chrome", "comment", "content"]
    page = Page('dir/"odd" päge.html', "", "html")
    expected = [json.dumps({"page": page.id, "index": n, "text": text, "label": label,
                            "proba": {"chrome": round(a, 4), "comment": round(b, 4), "content": round(c, 4)}},
                           ensure_ascii=False)
                for n, text, label, a, b, c in zip(range(4), texts, blocks["predicted"], blocks["proba_chrome"],
                                                   blocks["proba_comment"], blocks["proba_content"])]
    second = Page("second.html", "", "html")  # each page's lines, with its own id
    first_text, second_text = formats.format_blocks([(page, [()] * 3, ""), (second, [()], "")], blocks, labels)
    assert first_text.split("\n") == [*expected[:3], ""]
    assert second_text == expected[3].replace(json.dumps(page.id, ensure_ascii=False), '"second.html"') + "\n"


def test_probabilities_are_written_as_numpy_rounds_them():
    """format_blocks looks the rounded probabilities up in a table: the same text as repr of numpy's rounding,
    and values that are not probabilities are still written as they are."""
    import numpy as np

    rng = np.random.default_rng(0)
    values = np.concatenate([rng.random(20_000), rng.random(2_000) * 1e-4, 1 - rng.random(2_000) * 1e-4,
                             np.arange(10_001) / 10_000, [0.0, 1.0, 0.00005, 0.99995, 0.12345, 1 / 3]])
    assert formats._rounded_texts(values) == [repr(v) for v in values.round(4).tolist()]
    odd = np.array([0.5, -1e-9, 1.00002, np.nan])
    assert formats._rounded_texts(odd) == ["0.5", "-0.0", "1.0", "nan"]
    import pandas as pd

    from winnow.pages import Page

    blocks = pd.DataFrame({"index": [0, 1], "text": ["x", "y"], "predicted": ["content"] * 2,
                           "proba_content": [0.5, -1e-9]})
    lines = formats.format_blocks([(Page("p", "", "html"), [()] * 2, "")], blocks, ["content"])[0]
    assert lines.endswith('"proba": {"content": -0.0}}\n')  # written as it is, not looked up
