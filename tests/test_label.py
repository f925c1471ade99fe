"""`winnow label` / `suggest` / `train --add`: labeled files, the server's API and safety, the UI in Chromium."""

from __future__ import annotations

import http.client
import json
import random
import shutil
import threading
from itertools import islice
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import make_article_page
from winnow.cli import app
from winnow.label.server import LabelServer
from winnow.label.store import LabelSession, html_with_labels, text_with_labels
from winnow.model import load_model
from winnow.pages import Page
from winnow.segment import LABELS, segment

runner = CliRunner()
FEATURE_COLUMNS = ["text", "tag", "path", "depth", "link_chars", "classid", "ancestor_classid", "indent"]

TRICKY = ("<!DOCTYPE html><html><head><title>T</title></head><body>"
          "<div class='box'>Intro text <b>bold</b> more<p>Inside a paragraph.</p>Tail of the paragraph"
          "<span>inline</span><p>Second</p></div>"
          "<p>line one<br>line two<br>line three</p><ul><li><a href='/x'>Menu</a></li><li>Item</li></ul>"
          "<div data-label='chrome'>Old label<p data-label='content'>Old inner</p></div></body></html>")


def _round_trip(markup: str, labels: list[str]) -> None:
    before = segment(Page("p", markup, "html"))
    after = segment(Page("p", html_with_labels(markup, labels), "html"))
    assert after[FEATURE_COLUMNS].equals(before[FEATURE_COLUMNS])  # the same blocks, the same features
    assert after["gold"].tolist() == labels


def test_labels_written_into_html_come_back_as_the_same_blocks():
    count = len(segment(Page("p", TRICKY, "html")))
    assert count == 11
    for seed in range(5):
        rng = random.Random(seed)
        _round_trip(TRICKY, [rng.choice(LABELS) for _ in range(count)])


def test_labels_round_trip_on_real_pages(shared_datasets):
    from winnow.train.datasets import iter_dataset

    for n, gold in enumerate(islice(iter_dataset("dragnet:test", shared_datasets), 25)):
        rng = random.Random(n)
        _round_trip(gold.page.text, [rng.choice(LABELS) for _ in range(len(segment(gold.page)))])


def test_text_page_labels():
    text = "  • Home\n\nHeadline here\ncomment\tan earlier label\n   \nLast line\n"
    labeled = text_with_labels(text, ["chrome", "content", "comment", "content"])
    assert labeled == "chrome\t  • Home\n\ncontent\tHeadline here\ncomment\tan earlier label\n   \ncontent\tLast line\n"
    assert segment(Page("t", labeled, "text"))["gold"].tolist() == ["chrome", "content", "comment", "content"]


def test_wrong_labels_are_refused():
    with pytest.raises(ValueError, match="2 labels for 11 blocks"):
        html_with_labels(TRICKY, ["content", "chrome"])
    with pytest.raises(ValueError, match="unknown labels"):
        text_with_labels("a\nb\n", ["content", "boilerplate"])


# ---------------------------------------------------------------- the server


@pytest.fixture()
def pages_dir(tmp_path) -> Path:
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.html").write_text(make_article_page(4000, labeled=False))
    (folder / "b.html").write_text(make_article_page(4001, labeled=False))
    (folder / "hostile.html").write_text("<html><body><p>Click <script>alert(1)</script><img src=x onerror=alert(2)>"
                                         "&lt;img src=x onerror=alert(3)&gt; here</p><p>second block</p></body></html>")
    (folder / "notes.txt").write_text("Menu\nA headline\nSome text of the page.\n")
    return folder


@pytest.fixture()
def server(pages_dir, tmp_path, tiny_model):
    sources = sorted(str(p) for p in pages_dir.iterdir())
    running = LabelServer(LabelSession(sources, tmp_path / "labeled", tiny_model))
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def _request(server, method: str, path: str, body=None, token: bool = True, headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=30)
    sent = {"X-Winnow-Token": server.token} if token else {}
    if body is not None:
        sent["Content-Type"] = "application/json"
    sent.update(headers or {})
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=sent)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, (json.loads(data) if response.getheader("Content-Type", "").startswith("application/json") else data)


def test_the_app_page_holds_the_token_and_a_strict_policy(server):
    response, body = _request(server, "GET", "/", token=False)
    assert response.status == 200
    assert f'content="{server.token}"'.encode() in body
    assert "script-src 'self'" in response.getheader("Content-Security-Policy")
    assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_listing_page_and_save(server, tmp_path):
    response, listing = _request(server, "GET", "/api/pages")
    assert response.status == 200
    assert [p["name"] for p in listing["pages"]] == ["a.html", "b.html", "hostile.html", "notes.txt"]
    assert listing["current"] == 0 and listing["labels"] == list(LABELS)
    response, page = _request(server, "GET", "/api/pages/3")
    assert page["kind"] == "text" and [b["text"] for b in page["blocks"]] == ["Menu", "A headline", "Some text of the page."]
    assert all(0 <= b["confidence"] <= 1 and b["label"] == b["predicted"] for b in page["blocks"])
    response, saved = _request(server, "PUT", "/api/pages/3/labels", {"labels": ["chrome", "content", "content"]})
    assert response.status == 200 and saved["saved"]
    assert (tmp_path / "labeled" / "notes.txt").read_text() == "chrome\tMenu\ncontent\tA headline\ncontent\tSome text of the page.\n"
    _, page = _request(server, "GET", "/api/pages/3")
    assert page["saved"] and [b["label"] for b in page["blocks"]] == ["chrome", "content", "content"]
    assert _request(server, "PUT", "/api/current", {"number": 3})[0].status == 200


def test_reopening_resumes_labels_and_place(server, pages_dir, tmp_path, tiny_model):
    _, page = _request(server, "GET", "/api/pages/1")
    labels = ["comment"] * len(page["blocks"])
    _request(server, "PUT", "/api/pages/1/labels", {"labels": labels})
    _request(server, "PUT", "/api/current", {"number": 1})
    again = LabelSession(sorted(str(p) for p in pages_dir.iterdir()), tmp_path / "labeled", tiny_model)
    assert again.current() == 1
    assert [b["label"] for b in again.page(1)["blocks"]] == labels and again.page(1)["saved"]
    assert again.listing()["pages"][1]["saved"] and not again.listing()["pages"][0]["saved"]


def test_hostile_page_text_is_served_as_data(server):
    _, page = _request(server, "GET", "/api/pages/2")
    texts = [b["text"] for b in page["blocks"]]
    assert texts[0] == "Click <img src=x onerror=alert(3)> here"  # text, to be shown with textContent


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/api/pages/../../../etc/passwd", "/static/app.js",
                                  "/%2e%2e/%2e%2e/etc/passwd", "/api/pages/0/../../../../etc/passwd",
                                  "/api/pages/9", "/api/pages/-1", "/app.js/../server.py", "/store.py"])
def test_no_path_reaches_other_files(server, path):
    response, body = _request(server, "GET", path)
    assert response.status == 404
    assert b"root:" not in json.dumps(body).encode()


def test_requests_without_token_or_from_other_origins_are_refused(server, tmp_path):
    assert _request(server, "GET", "/api/pages", token=False)[0].status == 403
    evil = {"Origin": "http://evil.example"}
    response, _ = _request(server, "PUT", "/api/pages/0/labels", {"labels": []}, headers=evil)
    assert response.status == 403
    assert _request(server, "GET", "/api/pages", headers=evil)[0].status == 403
    assert _request(server, "GET", "/", token=False, headers={"Host": "evil.example:80"})[0].status == 403
    response, _ = _request(server, "PUT", "/api/current", None, headers={"Content-Type": "text/plain"})
    assert response.status == 415
    assert not (tmp_path / "labeled").exists() or not any((tmp_path / "labeled").glob("*.html"))


def test_bad_bodies_are_refused(server):
    assert _request(server, "PUT", "/api/pages/0/labels", {"labels": ["content"]})[0].status == 422
    assert _request(server, "PUT", "/api/pages/0/labels", {"labels": "content"})[0].status == 400
    assert _request(server, "PUT", "/api/current", {"number": 99})[0].status == 400


# ---------------------------------------------------------------- the UI in a real browser


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if path is None:
        pytest.skip("no Chromium on this machine (apt install chromium)")
    return path


def test_ui_relabel_a_block_and_save(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(server.url)
            page.wait_for_selector(".block")
            first = page.locator(".block").first
            before = first.get_attribute("data-label")
            wanted = next(label for label in LABELS if label != before)
            first.click()
            page.keyboard.press({"content": "1", "comment": "2", "chrome": "3"}[wanted])
            # Locator checks, not wait_for_function: the page's policy forbids evaluating strings.
            sync_api.expect(page.locator("#status")).to_have_text("saved")
            assert first.get_attribute("data-label") == wanted
            page.locator(".block").nth(2).click(modifiers=["Shift"])  # a range: blocks 0..2
            page.click("#set-comment")
            for n in range(3):
                sync_api.expect(page.locator(".block").nth(n)).to_have_attribute("data-label", "comment")
            sync_api.expect(page.locator("#status")).to_have_text("saved")
            page.screenshot(path=str(tmp_path / "label-ui.png"))
            hostile = page.locator(".page-item").nth(2)
            hostile.click()
            sync_api.expect(page.locator(".block").first).to_contain_text("onerror=alert(3)")
            assert page.locator("#blocks img").count() == 0  # the page's markup stays text
        finally:
            browser.close()
    assert not errors
    labeled = segment(Page("a", (tmp_path / "labeled" / "a.html").read_text(), "html"))
    assert labeled["gold"].tolist()[:3] == ["comment"] * 3


# ---------------------------------------------------------------- suggest, train --add


def test_suggest_ranks_the_doubtful_pages_first(pages_dir, tiny_model_path):
    result = runner.invoke(app, ["suggest", str(pages_dir), "--model", str(tiny_model_path), "--json", "--top", "0"])
    assert result.exit_code == 0, result.output
    ranked = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["page"] for r in ranked) == sorted(str(p) for p in pages_dir.iterdir())
    doubts = [r["doubt"] for r in ranked]
    assert doubts == sorted(doubts, reverse=True) and doubts[0] > doubts[-1]
    table = runner.invoke(app, ["suggest", str(pages_dir), "--model", str(tiny_model_path), "--top", "2"])
    assert table.exit_code == 0 and "pages to label first" in table.stdout


def test_train_adds_labeled_folders(native_dir, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "extra.html").write_text(make_article_page(5000, labeled=True))
    model_path = tmp_path / "m.joblib"
    result = runner.invoke(app, ["train", str(native_dir), "--add", str(mine), "-o", str(model_path), "--max-iter", "5"])
    assert result.exit_code == 0, result.output
    card = load_model(model_path).card
    assert card["training_data"]["specs"] == [str(native_dir), str(mine)]
    assert sum(d["pages"] for d in card["training_data"]["datasets"]) == 13


def test_labels_written_into_a_page_read_from_noscript_come_back():
    posts = "".join(f"<p>Reply {n} with a few words of text in it.</p>" for n in range(20))
    markup = f"<html><body><p>Loading</p><noscript><div>{posts}</div></noscript></body></html>"
    labels = ["chrome"] + ["content", "comment"] * 10
    _round_trip(markup, labels)
