"""Render an evaluation report dict as one self-contained HTML page: `winnow evaluate --html REPORT.html`.

The page opens offline: no scripts, no external style sheets, fonts or images. Plots are inline SVG
drawn here (confusion heat map, per-label F1 bars, histograms of per-page F1, reliability plots). Every
string that comes from the data (dataset names, page ids, messages) is escaped with html.escape. Like
report.py, this module never computes a score: it only draws the numbers of the report dict.
"""

from __future__ import annotations

import html
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from winnow.train.evaluate import LOW_COVERAGE
from winnow.train.report import BLOCK_HEADER, TOKEN_HEADER, _fmt, block_rows, token_rows

LABEL_COLORS = {"content": "#2f6db5", "comment": "#d9822b", "chrome": "#7a8290"}
SERIES_COLORS = ("#2f6db5", "#8fb8e6")  # blocks F1, tokens F1
INK, MUTED, GRID = "#1f2430", "#5d6472", "#e3e6ec"
HISTOGRAM_BINS = 20
HALO = ' paint-order="stroke" stroke="#ffffff" stroke-width="3"'  # keeps small labels legible over lines

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f6f8; color: #1f2430;
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 16px 0 8px; color: #3a404c; }
.row > div > h3:first-child { margin-top: 8px; }
p { margin: 6px 0; }
.meta { color: #5d6472; overflow-wrap: anywhere; }
section { background: #fff; border: 1px solid #e1e4ea; border-radius: 8px; padding: 18px 20px; margin: 18px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid #e1e4ea; border-radius: 8px; padding: 12px 16px; }
.card .value { font-size: 28px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .label { color: #5d6472; font-size: 13px; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.row > div { flex: 1 1 300px; min-width: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 4px 0 8px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e7e9ee; text-align: right; white-space: nowrap; }
th { font-weight: 600; color: #3a404c; border-bottom: 2px solid #cfd3db; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
td.page { white-space: normal; overflow-wrap: anywhere; max-width: 560px; }
.table-wrap { overflow-x: auto; }
svg { display: block; max-width: 100%; height: auto; font-family: inherit; }
.note { color: #5d6472; font-size: 13px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
details summary { cursor: pointer; color: #2f6db5; }
ul.pages { columns: 2; font-size: 13px; overflow-wrap: anywhere; }
footer { color: #5d6472; font-size: 12px; text-align: center; margin-top: 24px; }
"""


def _e(value) -> str:
    """Escape a string from the data for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def _num(value: float) -> str:
    """A coordinate for SVG: short, and never 'nan'."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if math.isfinite(value) else "0"


def _short(count: int) -> str:
    """A count in at most four characters: 7, 312, 1.2k, 57k, 3.4M."""
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if count >= size:
            value = count / size
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
    return str(count)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


# ---------------------------------------------------------------- SVG pieces


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{_e(title)}"><title>{_e(title)}</title>{"".join(body)}</svg>')


def _text(x: float, y: float, text: str, anchor: str = "middle", size: int = 12, fill: str = INK,
          weight: str = "normal", extra: str = "") -> str:
    return (f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
            f'font-weight="{weight}"{extra}>{_e(text)}</text>')


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str = "", extra: str = "") -> str:
    tooltip = f"<title>{_e(tip)}</title>" if tip else ""
    return (f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(max(w, 0))}" height="{_num(max(h, 0))}" '
            f'fill="{fill}"{extra}>{tooltip}</rect>')


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str = GRID, width: float = 1, extra: str = "") -> str:
    return (f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" stroke="{stroke}" '
            f'stroke-width="{width}"{extra}/>')


def _nice_ticks(top: float, integer: bool = False) -> list[float]:
    """Round tick values from 0 to a round number >= top (about five steps)."""
    if top <= 0:
        return [0, 1]
    magnitude = 10 ** math.floor(math.log10(top))
    upper = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= top)
    step = upper / 5
    if integer:
        step = max(1, round(step))
        upper = step * math.ceil(top / step)
    return [step * i for i in range(int(round(upper / step)) + 1)]


def _mix(share: float) -> str:
    """White to deep blue for a share in [0, 1]."""
    share = min(max(share, 0.0), 1.0)
    low, high = (247, 250, 255), (17, 64, 128)
    return "#" + "".join(f"{round(a + (b - a) * share):02x}" for a, b in zip(low, high))


def confusion_svg(confusion: dict) -> str:
    """Heat map of the confusion matrix: cell colour is the share of the gold row, text the count."""
    labels, matrix = confusion["labels"], confusion["matrix"]
    cell, left, top = 104, 124, 64
    width, height = left + cell * len(labels) + 16, top + cell * len(labels) + 16
    body = [_text(left + cell * len(labels) / 2, 18, "predicted", size=13, fill=MUTED),
            _text(22, top + cell * len(labels) / 2, "gold", size=13, fill=MUTED,
                  extra=f' transform="rotate(-90 22 {_num(top + cell * len(labels) / 2)})"')]
    for j, label in enumerate(labels):
        body.append(_text(left + cell * (j + 0.5), top - 14, label, size=13, weight="600"))
    for i, (gold, row) in enumerate(zip(labels, matrix)):
        total = sum(row)
        body.append(_text(left - 12, top + cell * (i + 0.5) + 4, gold, anchor="end", size=13, weight="600"))
        for j, (predicted, count) in enumerate(zip(labels, row)):
            share = count / total if total else 0.0
            x, y = left + cell * j, top + cell * i
            ink = "#ffffff" if share > 0.5 else INK
            body.append(_rect(x + 1, y + 1, cell - 2, cell - 2, _mix(share),
                              f"gold {gold}, predicted {predicted}: {count:,} blocks ({share:.1%} of gold {gold})",
                              ' rx="3"' + (' stroke="#11408080" stroke-width="1.5"' if i == j else "")))
            body.append(_text(x + cell / 2, y + cell / 2 - 2, f"{count:,}", size=16, fill=ink, weight="600"))
            body.append(_text(x + cell / 2, y + cell / 2 + 18, f"{share:.1%}" if total else "–", size=12, fill=ink))
    return _svg(width, height, "Confusion matrix heat map (rows gold, columns predicted; colour = share of the gold row)",
                body)


def f1_bars_svg(report: dict) -> str:
    """Per-label F1 bars: over blocks (aligned gold labels) and over tokens (gold text, per-page macro)."""
    labels = list(report["blocks"]["per_label"])
    series = [("blocks F1", {lab: report["blocks"]["per_label"][lab]["f1"] for lab in labels}),
              ("tokens F1 (per-page macro)", {lab: report["tokens"].get(lab, {}).get("f1", float("nan")) for lab in labels})]
    width, height, left, right, top, bottom = 540, 300, 44, 12, 40, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    body = []
    for tick in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        y = top + plot_h * (1 - tick)
        body += [_line(left, y, width - right, y), _text(left - 6, y + 4, f"{tick:.1f}", anchor="end", size=11, fill=MUTED)]
    x_legend = left
    for (name, _), color in zip(series, SERIES_COLORS):
        body += [_rect(x_legend, 12, 12, 12, color, extra=' rx="2"'), _text(x_legend + 18, 22, name, anchor="start", size=12)]
        x_legend += 28 + 7 * len(name)
    group_w = plot_w / len(labels)
    bar_w = group_w * 0.3
    for g, label in enumerate(labels):
        center = left + group_w * (g + 0.5)
        for s, ((name, values), color) in enumerate(zip(series, SERIES_COLORS)):
            x = center + (s - 1) * bar_w - 2 + 4 * s
            value = values[label]
            if _finite(value):
                bar_h = plot_h * min(max(value, 0.0), 1.0)
                body.append(_rect(x, top + plot_h - bar_h, bar_w, bar_h, color, f"{label} {name}: {value:.3f}"))
                body.append(_text(x + bar_w / 2, top + plot_h - bar_h - 5, f"{value:.3f}", size=11))
            else:
                body.append(_text(x + bar_w / 2, top + plot_h - 6, "n/a", size=11, fill=MUTED))
        body.append(_text(center, height - bottom + 20, label, size=13, weight="600"))
    body.append(_line(left, top + plot_h, width - right, top + plot_h, stroke="#9aa1ad"))
    return _svg(width, height, "F1 per label: blocks and tokens", body)


def histogram_svg(values: list[float], part: str, color: str) -> str:
    """Histogram of per-page F1 in bins of 0.05 (the last bin includes 1), with the mean marked."""
    counts, _ = np.histogram(np.asarray(values, dtype=float), bins=HISTOGRAM_BINS, range=(0.0, 1.0))
    width, height, left, right, top, bottom = 540, 280, 44, 14, 28, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = _nice_ticks(max(counts.max(initial=0), 1), integer=True)
    y_max = ticks[-1]
    body = []
    for tick in ticks:
        y = top + plot_h * (1 - tick / y_max)
        body += [_line(left, y, width - right, y), _text(left - 6, y + 4, f"{tick:g}", anchor="end", size=11, fill=MUTED)]
    bin_w = plot_w / HISTOGRAM_BINS
    for i, count in enumerate(counts):
        bar_h = plot_h * count / y_max
        low, high = i / HISTOGRAM_BINS, (i + 1) / HISTOGRAM_BINS
        closing = "]" if i == HISTOGRAM_BINS - 1 else ")"
        body.append(_rect(left + bin_w * i + 1, top + plot_h - bar_h, bin_w - 2, bar_h, color,
                          f"F1 in [{low:.2f}, {high:.2f}{closing}: {count:,} pages"))
        if count:
            body.append(_text(left + bin_w * (i + 0.5), top + plot_h - bar_h - 3, _short(count), size=9, fill=MUTED,
                              extra=HALO))
    for tick in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        x = left + plot_w * tick
        body += [_line(x, top + plot_h, x, top + plot_h + 4, stroke="#9aa1ad"),
                 _text(x, top + plot_h + 17, f"{tick:.1f}", size=11, fill=MUTED)]
    body.append(_line(left, top + plot_h, width - right, top + plot_h, stroke="#9aa1ad"))
    body.append(_text(left + plot_w / 2, height - 6, f"{part} token F1 of a page", size=12, fill=MUTED))
    if values:
        mean = float(np.mean(values))
        x = left + plot_w * mean
        body += [_line(x, top - 4, x, top + plot_h, stroke=INK, width=1.5, extra=' stroke-dasharray="5 4"'),
                 _text(x - 6 if mean > 0.5 else x + 6, top + 8, f"mean {mean:.3f}", anchor="end" if mean > 0.5 else "start",
                       size=12, weight="600")]
    body.append(_text(left, 14, f"pages ({len(values):,} with gold {part})", anchor="start", size=11, fill=MUTED))
    return _svg(width, height, f"Histogram of per-page {part} token F1", body)


def calibration_svg(label: str, data: dict) -> str:
    """Reliability plot: observed frequency of the label against mean predicted probability, per bin;
    under it the number of blocks per bin (log scale)."""
    size, left, top = 230, 46, 30
    strip_top, strip_h = top + size + 50, 44
    width, height = left + size + 16, strip_top + strip_h + 22
    color = LABEL_COLORS.get(label, INK)
    ece = data.get("ece", float("nan"))
    body = [_text(left, 16, f"{label}", anchor="start", size=14, weight="600", fill=color),
            _text(left + size, 16, f"ECE {_fmt(ece)}", anchor="end", size=12, fill=MUTED)]
    for tick in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        x, y = left + size * tick, top + size * (1 - tick)
        body += [_line(left, y, left + size, y), _line(x, top, x, top + size),
                 _text(left - 6, y + 4, f"{tick:.1f}", anchor="end", size=10, fill=MUTED),
                 _text(x, top + size + 14, f"{tick:.1f}", size=10, fill=MUTED)]
    body.append(_rect(left, top, size, size, "none", extra=' stroke="#9aa1ad"'))
    body.append(_line(left, top + size, left + size, top, stroke="#9aa1ad", extra=' stroke-dasharray="4 4"'))
    body.append(_text(left + size / 2, top + size + 30, "predicted probability", size=11, fill=MUTED))
    body.append(_text(12, top + size / 2, "observed frequency", size=11, fill=MUTED,
                      extra=f' transform="rotate(-90 12 {_num(top + size / 2)})"'))
    bins = [b for b in data.get("bins", []) if b["count"] and _finite(b["mean_predicted"]) and _finite(b["observed"])]
    points = [(left + size * b["mean_predicted"], top + size * (1 - b["observed"])) for b in bins]
    if len(points) > 1:
        body.append(f'<polyline points="{" ".join(f"{_num(x)},{_num(y)}" for x, y in points)}" fill="none" '
                    f'stroke="{color}" stroke-width="2"/>')
    largest = max((b["count"] for b in bins), default=1)
    for b, (x, y) in zip(bins, points):
        radius = 2.5 + 4.5 * math.sqrt(b["count"] / largest)
        tip = (f"p in [{b['lower']:.1f}, {b['upper']:.1f}): {b['count']:,} blocks, mean predicted "
               f"{b['mean_predicted']:.3f}, observed {b['observed']:.3f}")
        body.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{_num(radius)}" fill="{color}" stroke="#fff" '
                    f'stroke-width="1"><title>{_e(tip)}</title></circle>')
    all_bins = data.get("bins", [])
    top_count = max((b["count"] for b in all_bins), default=0)
    scale = math.log10(top_count + 1) or 1.0
    bin_w = size / max(len(all_bins), 1)
    for i, b in enumerate(all_bins):
        bar_h = strip_h * math.log10(b["count"] + 1) / scale
        body.append(_rect(left + bin_w * i + 1, strip_top + strip_h - bar_h, bin_w - 2, bar_h, color,
                          f"p in [{b['lower']:.1f}, {b['upper']:.1f}): {b['count']:,} blocks", ' opacity="0.55"'))
        body.append(_text(left + bin_w * (i + 0.5), strip_top + strip_h - bar_h - 3, _short(b["count"]), size=8,
                          fill=MUTED))
    body.append(_line(left, strip_top + strip_h, left + size, strip_top + strip_h, stroke="#9aa1ad"))
    body.append(_text(left + size / 2, strip_top + strip_h + 15, "blocks per bin (log scale)", size=10, fill=MUTED))
    return _svg(width, height, f"Reliability plot for {label}", body)


# ---------------------------------------------------------------- HTML pieces


def _table(header: list[str], rows: list[list[str]], text_columns: tuple[int, ...] = (0,),
           page_column: int | None = None) -> str:
    def cell(n: int, value: str, tag: str) -> str:
        classes = " ".join(c for c, on in (("text", n in text_columns), ("page", n == page_column)) if on)
        attribute = f' class="{classes}"' if classes else ""
        return f"<{tag}{attribute}>{_e(value)}</{tag}>"
    head = "".join(cell(n, h, "th") for n, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell(n, v, "td") for n, v in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _card(value: str, label: str) -> str:
    return f'<div class="card"><div class="value">{_e(value)}</div><div class="label">{_e(label)}</div></div>'


def _cards(report: dict) -> str:
    tokens = report.get("tokens", {})
    cards = [_card(_fmt(tokens[part]["f1"]), f"{part} token F1 ({tokens[part]['pages']:,} pages)")
             for part in ("content", "comment") if part in tokens]
    shingles = report.get("shingles", {}).get("content")
    if shingles:
        cards.append(_card(_fmt(shingles["f1"]), f"content {shingles.get('n', 4)}-gram F1 ({shingles['pages']:,} pages)"))
    cards.append(_card(_fmt(report["blocks"].get("accuracy", float("nan"))), f"block accuracy ({report['blocks_total']:,} blocks)"))
    return f'<div class="cards">{"".join(cards)}</div>'


def _shingles(shingles: dict | None) -> str:
    if not shingles:
        return ""
    n = shingles.get("n", 4)
    return (f"<div><h3>Content word {n}-gram sets</h3>"
            f'<p class="note">Per page, the set of word {n}-grams of the predicted content against that of the gold '
            "content; precision, recall and F1 per page, averaged over the pages with gold content. Unlike the "
            "token bags, shingles also reward text found in its order.</p>"
            + _table(["part", "pages", "precision", "recall", "F1"],
                     [["content", f"{shingles['pages']:,}", _fmt(shingles["precision"]), _fmt(shingles["recall"]),
                       _fmt(shingles["f1"])]]) + "</div>")


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{_e(title)}</h2>{''.join(parts)}</section>"


def report_to_html(report: dict) -> str:
    """The whole page for an evaluation report dict (as `winnow.train.evaluate.evaluate` returns it)."""
    data = ", ".join(report.get("data", []))
    confusion = report["blocks"]["confusion"]
    sections = [
        _section("Tokens",
                 '<p class="note">Per page, the bag of word tokens of the blocks predicted as a part against the '
                 "page's gold text for it; averaged over the pages whose gold has the part (micro pools all "
                 "tokens of all pages).</p>",
                 _table(TOKEN_HEADER, token_rows(report)),
                 f'<div class="row"><div><h3>F1 per label</h3>{f1_bars_svg(report)}'
                 '<p class="note">Blocks F1 scores each block against its aligned gold label; chrome has no token '
                 "score, as the gold text holds content and comments only.</p></div>",
                 _shingles(report.get("shingles", {}).get("content")), "</div>"),
        _section("Blocks (against aligned gold labels)",
                 '<div class="row"><div>', _table(BLOCK_HEADER, block_rows(report)),
                 f'<p class="note">Accuracy {_e(_fmt(report["blocks"].get("accuracy", float("nan"))))} over '
                 f'{report["blocks_total"]:,} blocks.</p>',
                 "<h3>Counts (rows gold, columns predicted)</h3>",
                 _table(["gold \\ predicted", *confusion["labels"]],
                        [[label, *(f"{n:,}" for n in row)] for label, row in zip(confusion["labels"], confusion["matrix"])]),
                 f"</div><div><h3>Confusion matrix</h3>{confusion_svg(confusion)}</div></div>"),
    ]
    page_f1 = report.get("page_token_f1", {})
    if page_f1:
        plots = [f"<div><h3>{_e(part)}</h3>{histogram_svg(page_f1[part], part, LABEL_COLORS[part])}</div>"
                 for part in ("content", "comment") if page_f1.get(part)]
        sections.append(_section("Per-page token F1", '<p class="note">How the macro average is made up: one count '
                                 "per page whose gold has the part.</p>",
                                 f'<div class="row">{"".join(plots) or "<p>No page has gold text.</p>"}</div>'))
    calibration = report.get("calibration", {})
    if calibration:
        plots = "".join(f"<div>{calibration_svg(label, calibration[label])}</div>" for label in calibration)
        sections.append(_section(
            "Calibration",
            '<p class="note">Blocks binned by the predicted probability of a label (10 bins); each point is a bin: '
            "its mean predicted probability against the share of its blocks whose gold label is that label. A "
            "calibrated model stays on the dashed diagonal. ECE: expected calibration error, the block-weighted mean "
            "gap.</p>", f'<div class="row">{plots}</div>'))
    sections.append(_section("Worst pages by content F1", _table(
        ["page", "F1", "precision", "recall", "problem"],
        [[p["page"], _fmt(p["f1"]), _fmt(p.get("precision", float("nan"))), _fmt(p.get("recall", float("nan"))),
          p["problem"]] for p in report["worst_pages"]], text_columns=(0, 4), page_column=0)))
    alignment = report["alignment"]
    low = alignment["low_coverage_pages"]
    pages_word = "page" if len(low) == 1 else "pages"
    low_list = (f"<details><summary>{len(low):,} {pages_word} where the aligned blocks cover less than "
                f"{LOW_COVERAGE:.0%} of the gold content (their scores mean little)</summary>"
                '<ul class="pages">' + "".join(f"<li>{_e(page)}</li>" for page in low) + "</ul></details>") if low else ""
    sections.append(_section(
        "Alignment", f"<p>Mean share of the gold text covered by the aligned blocks: content "
        f"{_e(_fmt(alignment['mean_content_coverage']))}, comments {_e(_fmt(alignment['mean_comment_coverage']))}.</p>",
        low_list))
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return "".join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>winnow evaluation: {_e(data)}</title><style>{CSS}</style></head><body><main>",
        f"<header><h1>winnow evaluation</h1><p class=\"meta\"><strong>{_e(data)}</strong>: "
        f"{report['pages']:,} pages, {report['blocks_total']:,} blocks; model created {_e(report.get('model', 'unknown'))}"
        "</p></header>",
        _cards(report),
        *sections,
        f"<footer>written by winnow evaluate on {_e(created)}</footer>",
        "</main></body></html>\n",
    ])


def write_html(report: dict, path: str | Path) -> Path:
    """Write the page whole or not at all: rendered first, then a scratch file renamed onto `path`."""
    text = report_to_html(report)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.tmp")
    try:
        scratch.write_text(text, encoding="utf-8")
        scratch.replace(target)
    finally:
        scratch.unlink(missing_ok=True)
    return target
