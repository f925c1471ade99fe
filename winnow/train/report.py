"""Render an evaluation report dict as terminal tables or Markdown."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from winnow.train.evaluate import LOW_COVERAGE


def _fmt(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"


def token_rows(report: dict) -> list[list[str]]:
    rows = []
    order = {"content": 0, "comment": 1}
    for part, s in sorted(report["tokens"].items(), key=lambda item: order.get(item[0], 2)):
        rows.append([part, str(s["pages"]), _fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"]),
                     _fmt(s["micro_precision"]), _fmt(s["micro_recall"]), _fmt(s["micro_f1"])])
    return rows


TOKEN_HEADER = ["part", "pages", "precision", "recall", "F1", "micro P", "micro R", "micro F1"]
BLOCK_HEADER = ["label", "blocks", "precision", "recall", "F1"]


def block_rows(report: dict) -> list[list[str]]:
    return [[label, f"{s['blocks']:,}", _fmt(s["precision"]), _fmt(s["recall"]), _fmt(s["f1"])]
            for label, s in report["blocks"]["per_label"].items()]


def shingle_line(shingles: dict) -> str:
    return (f"Content word {shingles.get('n', 4)}-gram sets (per-page macro over {shingles['pages']:,} pages): "
            f"precision {_fmt(shingles['precision'])}, recall {_fmt(shingles['recall'])}, F1 {_fmt(shingles['f1'])}")


def print_report(report: dict, console: Console | None = None) -> None:
    console = console or Console()
    # Data names are printed as they are: no rich markup ("[draft]/") and no emoji codes ("dragnet:train:").
    console.print(f"[bold]{escape(', '.join(report['data']))}[/]: {report['pages']:,} pages, {report['blocks_total']:,} blocks",
                  emoji=False)
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
        table.add_row(Text(page["page"]), _fmt(page["f1"]), page["problem"])
    console.print(table)
    shingles = report.get("shingles", {}).get("content")
    if shingles:
        console.print(shingle_line(shingles))
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
    if report.get("shingles", {}).get("content"):
        parts.insert(3, shingle_line(report["shingles"]["content"]) + ".")
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- cross-validation (winnow evaluate --cv)

CV_PARTS = ("content", "comment")
CV_STATS = (("precision", "P"), ("recall", "R"), ("f1", "F1"))
# The terminal table drops comment precision and recall to fit 80 columns; Markdown has them all.
CV_COMPACT = (("content", "precision"), ("content", "recall"), ("content", "f1"), ("comment", "f1"))
CV_FULL = tuple((part, stat) for part in CV_PARTS for stat, _ in CV_STATS)


def _mean_std(stat: dict) -> str:
    if stat["mean"] != stat["mean"]:
        return "n/a"
    return f"{stat['mean']:.3f} ± {_fmt(stat['std'])}" if stat["std"] == stat["std"] else f"{stat['mean']:.3f}"


def cv_header(columns=CV_FULL, sep: str = " ") -> list[str]:
    names = dict(CV_STATS)
    return ["fold", "groups", "pages", *(f"{part}{sep}{names[stat]}" for part, stat in columns),
            f"4-gram{sep}F1", f"block{sep}acc."]


def cv_fold_rows(report: dict, columns=CV_FULL) -> list[list[str]]:
    return [[str(f["fold"]), f"{len(f['groups']):,}", f"{f['pages']:,}",
             *(_fmt(f["tokens"][part][stat]) for part, stat in columns),
             _fmt(f["shingles"]["content"]["f1"]), _fmt(f["block_accuracy"])] for f in report["folds"]]


def _summary_cells(report: dict, columns, cell) -> list[str]:
    return [*(cell(report["summary"][part][stat]) for part, stat in columns),
            cell(report["shingles_summary"]["content"]["f1"])]


def cv_title(report: dict) -> str:
    return (f"{', '.join(report['data'])}: {report['k']}-fold cross-validation grouped by {report['group_by']} "
            f"({report['groups']:,} groups, {report['pages']:,} pages, {report['blocks_total']:,} blocks; "
            f"{report['max_iter']} boosting iterations per fold"
            + (f"; every fold also fitted on {', '.join(report['add'])})" if report.get("add") else ")"))


def cv_pooled_line(report: dict) -> str:
    tokens = report["pooled"]["tokens"]
    return ("All held-out pages scored together: token F1 "
            + ", ".join(f"{part} {_fmt(tokens[part]['f1'])} ({tokens[part]['pages']:,} pages)"
                        for part in CV_PARTS if part in tokens)
            + f"; block accuracy {_fmt(report['pooled']['block_accuracy'])}")


def print_cv_report(report: dict, console: Console | None = None) -> None:
    console = console or Console()
    console.print(Text(cv_title(report)))
    table = Table(title="Token scores of each held-out fold (per-page macro average)", title_justify="left",
                  show_edge=False)
    for name in cv_header(CV_COMPACT, "\n"):
        table.add_column(name, justify="left" if name == "fold" else "right")
    for row in cv_fold_rows(report, CV_COMPACT):
        table.add_row(*row)
    table.add_section()
    table.add_row("mean", "", "",
                  *_summary_cells(report, CV_COMPACT, lambda s: _fmt(s["mean"])), "")
    table.add_row("std", "", "", *_summary_cells(report, CV_COMPACT, lambda s: _fmt(s["std"])), "")
    console.print(table)
    console.print(cv_pooled_line(report), markup=False, emoji=False)


def markdown_cv_report(report: dict) -> str:
    header = cv_header()
    rows = cv_fold_rows(report) + [["mean ± std", "", "",
                                    *_summary_cells(report, CV_FULL, _mean_std), ""]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n\n".join([f"## winnow cross-validation: {', '.join(report['data'])}", cv_title(report) + ".",
                         "\n".join(lines), cv_pooled_line(report) + "."]) + "\n"
