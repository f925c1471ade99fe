"""Render an evaluation report dict as terminal tables or Markdown."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from winnow.train.evaluate import LOW_COVERAGE


def _fmt(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"


def token_rows(report: dict) -> list[list[str]]:
    rows = []
    for part, s in report["tokens"].items():
        rows.append([part, str(s["pages"]), _fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"]),
                     _fmt(s["micro_precision"]), _fmt(s["micro_recall"]), _fmt(s["micro_f1"])])
    return rows


TOKEN_HEADER = ["part", "pages", "precision", "recall", "F1", "micro P", "micro R", "micro F1"]
BLOCK_HEADER = ["label", "blocks", "precision", "recall", "F1"]


def block_rows(report: dict) -> list[list[str]]:
    return [[label, f"{s['blocks']:,}", _fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"])]
            for label, s in report["blocks"]["per_label"].items()]


def print_report(report: dict, console: Console | None = None) -> None:
    console = console or Console()
    console.print(f"[bold]{', '.join(report['data'])}[/]: {report['pages']:,} pages, {report['blocks_total']:,} blocks")
    for title, header, rows in (("Tokens (per-page macro average; micro pools all tokens)", TOKEN_HEADER, token_rows(report)),
                                ("Blocks (against aligned gold labels)", BLOCK_HEADER, block_rows(report))):
        table = Table(title=title, title_justify="left")
        for name in header:
            table.add_column(name, justify="left" if name in ("part", "label") else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    confusion = report["blocks"]["confusion"]
    table = Table(title="Confusion (rows gold, columns predicted)", title_justify="left")
    table.add_column("gold \\ predicted")
    for label in confusion["labels"]:
        table.add_column(label, justify="right")
    for label, row in zip(confusion["labels"], confusion["matrix"]):
        table.add_row(label, *[f"{n:,}" for n in row])
    console.print(table)
    table = Table(title="Worst pages by content F1", title_justify="left")
    for name in ("page", "F1", "problem"):
        table.add_column(name)
    for page in report["worst_pages"]:
        table.add_row(page["page"], _fmt(page["f1"]), page["problem"])
    console.print(table)
    alignment = report["alignment"]
    console.print(f"Alignment: mean gold coverage content {_fmt(alignment['mean_content_coverage'])}, "
                  f"comments {_fmt(alignment['mean_comment_coverage'])}; "
                  f"{len(alignment['low_coverage_pages'])} pages below {LOW_COVERAGE}")


def markdown_report(report: dict) -> str:
    def table(header: list[str], rows: list[list[str]]) -> str:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])

    confusion = report["blocks"]["confusion"]
    parts = [
        f"## winnow evaluation: {', '.join(report['data'])}",
        f"{report['pages']:,} pages, {report['blocks_total']:,} blocks.",
        "### Tokens\n\n" + table(TOKEN_HEADER, token_rows(report)),
        "### Blocks\n\n" + table(BLOCK_HEADER, block_rows(report)),
        "### Confusion (rows gold, columns predicted)\n\n" + table(
            ["gold \\ predicted", *confusion["labels"]],
            [[label, *map(str, row)] for label, row in zip(confusion["labels"], confusion["matrix"])]),
        "### Worst pages by content F1\n\n" + table(
            ["page", "F1", "problem"], [[p["page"], _fmt(p["f1"]), p["problem"]] for p in report["worst_pages"]]),
    ]
    return "\n\n".join(parts) + "\n"
