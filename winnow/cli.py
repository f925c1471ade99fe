"""The `winnow` command: each verb parses options and calls one library function."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from winnow.model import MAX_ITER, ModelError, load_model
from winnow.pages import MAX_PAGE_BYTES, PageError, read_page
from winnow.compiled import MODULES, unbuilt
from winnow.segment import MAX_BLOCKS
from winnow.predict.batch import (PAGE_SECONDS, BatchOptions, BatchSummary, extract_to, predict_to, resolve_jobs,
                                  write_failures)
from winnow.predict.output import open_output, resumable_output
from winnow.predict.sources import require_pages
from winnow.train.datasets import DatasetError
from winnow.train.fit import PRESETS, TrainingError

app = typer.Typer(help="Label every block of a web page as content, comment or chrome; train on your own pages.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
err = Console(stderr=True, soft_wrap=True, emoji=False)  # "dragnet:train:" is a dataset, not an emoji


class InputFormat(str, Enum):
    auto = "auto"
    html = "html"
    text = "text"


class ExtractFormat(str, Enum):
    json = "json"
    text = "text"
    markdown = "markdown"


ModelOption = Annotated[Optional[Path], typer.Option(
    "--model", "-m", help="Model file (default: the model shipped with winnow). A .joblib model is a pickle: "
                          "loading it runs code, so load only files you trust; .skops files do not run code.")]
InputsArgument = Annotated[Optional[list[str]], typer.Argument(
    help="Pages: files (.html .htm .txt, optionally .gz), directories (searched recursively), quoted globs "
         "('crawl/**/*.html'), WARC/ARC archives (.warc, .warc.gz: their HTML responses), or - for stdin.",
    show_default=False)]
InputFormatOption = Annotated[InputFormat, typer.Option(
    "--input-format", help="Treat inputs as HTML or plain text; auto decides from the content.")]
OutputOption = Annotated[Optional[str], typer.Option(
    "--output", "-o", help="Write here (whole or not at all) instead of stdout.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")]
ErrorsOption = Annotated[Optional[str], typer.Option(
    "--errors", help="Also write the pages that failed, with the reason, to this JSON Lines file.")]
MaxBytesOption = Annotated[int, typer.Option(
    "--max-page-bytes", help="Refuse pages larger than this many bytes (after gunzip); bounds memory per page.")]
MaxBlocksOption = Annotated[int, typer.Option(
    "--max-blocks", help="Keep at most this many blocks of a page; the rest of a huge page is dropped, and the "
                         "page is named in the summary.")]
PageSecondsOption = Annotated[float, typer.Option(
    "--page-timeout", help="Give up on a page whose segmentation takes longer than this many seconds (0: no limit).")]
DatasetsOption = Annotated[Optional[Path], typer.Option(
    "--datasets", help="Folder holding the public dataset archives (default: $WINNOW_DATASETS or ../shared/datasets).")]


@contextmanager
def _clear_errors():
    """Known failures become a one-line message and exit code 2, never a traceback."""
    try:
        yield
    except (PageError, ModelError, DatasetError, TrainingError, FileNotFoundError) as error:
        err.print(f"[red]error:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None


def _json(data) -> str:
    """Strict JSON: NaN (a score with nothing to score) becomes null."""
    def clean(value):
        if isinstance(value, float) and value != value:
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value
    return json.dumps(clean(data), indent=2, allow_nan=False) + "\n"


@contextmanager
def _batch_output(output: str | None, resume: bool):
    """(stream, ids of pages already done); Ctrl-C keeps the whole pages written so far and exits 130."""
    try:
        if resume:
            with resumable_output(output) as (out, done):
                yield out, done
        else:
            with open_output(output) as out:
                yield out, frozenset()
    except KeyboardInterrupt:
        err.print(f"interrupted: the pages finished so far are in {escape(output or 'stdout')}", highlight=False)
        raise typer.Exit(130) from None


def _run_batch(task: str, inputs: list[str] | None, from_file: str | None, model: Path | None, output: str | None,
               errors: str | None, quiet: bool, resume: bool, dask_scheduler: str | None, options: BatchOptions,
               output_format: str = "json") -> None:
    """Find the pages, load the model, run the batch into the output, then report."""
    with _clear_errors():
        if resume and output in (None, "-"):
            raise PageError("--resume needs --output FILE: the pages already done are read from it")
        if resume and output_format != "json" and not dask_scheduler:
            raise PageError(f"--resume needs JSON output (the page of each record): not --format {output_format}")
        if dask_scheduler and output in (None, "-"):
            raise typer.BadParameter("a Dask run writes one file per partition: give an output folder",
                                     param_hint="'--output'")
        sources = require_pages(inputs, from_file)
        loaded = load_model(model)
        if dask_scheduler:
            from winnow.predict.on_dask import run_on_dask

            summary = run_on_dask(dask_scheduler, loaded, sources, output, task, output_format, options, resume)
        else:
            options = replace(options, jobs=resolve_jobs(options.jobs, sources))
            with _batch_output(output, resume) as (out, done):
                summary = (predict_to(loaded, sources, out, options, done) if task == "predict"
                           else extract_to(loaded, sources, out, output_format, options, done))
    _finish(summary, quiet, errors)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _finish(summary: BatchSummary, quiet: bool, errors: str | None) -> None:
    if errors:
        write_failures(summary, errors)
    if not quiet:
        rate = summary.pages / summary.seconds if summary.seconds else 0.0
        skipped = f", {summary.skipped:,} already done" if summary.skipped else ""
        err.print(f"{_count(summary.pages, 'page')}, {_count(summary.blocks, 'block')}, {len(summary.failures)} failed{skipped}, "
                  f"{summary.seconds:.1f} s ({rate:.1f} pages/s)", highlight=False)
    for page, what in summary.cut:
        err.print(f"[yellow]cut:[/] {escape(page)}: {escape(what)}", highlight=False)
    for page, reason in summary.failures:
        err.print(f"[red]failed:[/] {escape(page)}: {escape(reason)}", highlight=False)
    if summary.failures:
        raise typer.Exit(1)


FromFileOption = Annotated[Optional[str], typer.Option(
    "--from-file", help="Also read page paths (files, directories, globs, WARC files) from this file, one per "
                        "line; - reads them from stdin.")]
JobsOption = Annotated[int, typer.Option(
    "--jobs", "-j", help="Worker processes (0: one per core, but no more than one per 256 pages, as a worker "
                         "takes seconds to start; 1: no workers).")]
OrderedOption = Annotated[bool, typer.Option(
    "--ordered/--unordered", help="Write pages in input order, or as soon as they are done (faster with --jobs).")]
ResumeOption = Annotated[bool, typer.Option(
    "--resume", help="Continue an interrupted run: keep the pages already in --output and do only the rest.")]
DaskOption = Annotated[Optional[str], typer.Option(
    "--dask-scheduler", help="Run on a Dask cluster (e.g. tcp://host:8786; 'local' starts one here). --output is "
                             "then a folder of part-NNNNN.jsonl files. Needs pip install 'winnow[dask]'.")]


def _options(input_format: InputFormat, quiet: bool, max_bytes: int, page_seconds: float, max_blocks: int,
             jobs: int, ordered: bool) -> BatchOptions:
    return BatchOptions(input_format.value, not quiet and err.is_terminal, max_bytes, page_seconds, max_blocks,
                        jobs, ordered)


@app.command()
def predict(inputs: InputsArgument = None, model: ModelOption = None, output: OutputOption = None,
            input_format: InputFormatOption = InputFormat.auto, quiet: QuietOption = False,
            errors: ErrorsOption = None, max_page_bytes: MaxBytesOption = MAX_PAGE_BYTES,
            page_seconds: PageSecondsOption = PAGE_SECONDS, max_blocks: MaxBlocksOption = MAX_BLOCKS,
            from_file: FromFileOption = None, jobs: JobsOption = 0, ordered: OrderedOption = True,
            resume: ResumeOption = False, dask_scheduler: DaskOption = None) -> None:
    """Label every block of each page: JSON Lines {page, index, text, label, proba}, in page order."""
    options = _options(input_format, quiet, max_page_bytes, page_seconds, max_blocks, jobs, ordered)
    _run_batch("predict", inputs, from_file, model, output, errors, quiet, resume, dask_scheduler, options)


@app.command()
def extract(inputs: InputsArgument = None, model: ModelOption = None, output: OutputOption = None,
            output_format: Annotated[ExtractFormat, typer.Option("--format", "-f", help="json: one JSON object per page "
                                     "{page, title, text, comments}; text or markdown: readable text.")] = ExtractFormat.json,
            input_format: InputFormatOption = InputFormat.auto, quiet: QuietOption = False,
            errors: ErrorsOption = None, max_page_bytes: MaxBytesOption = MAX_PAGE_BYTES,
            page_seconds: PageSecondsOption = PAGE_SECONDS, max_blocks: MaxBlocksOption = MAX_BLOCKS,
            from_file: FromFileOption = None, jobs: JobsOption = 0, ordered: OrderedOption = True,
            resume: ResumeOption = False, dask_scheduler: DaskOption = None) -> None:
    """Extract each page's headline, article text and reader comments."""
    options = _options(input_format, quiet, max_page_bytes, page_seconds, max_blocks, jobs, ordered)
    _run_batch("extract", inputs, from_file, model, output, errors, quiet, resume, dask_scheduler, options,
               output_format.value)


@app.command()
def train(
    data: Annotated[Optional[list[str]], typer.Argument(
        help="Datasets: dragnet, dragnet:train, dragnet:test, wcxb-dev, cleaneval, cleanportaleval, or a folder "
             "of pages in the native labeled format.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write (a model card is written "
                                         "beside it as .card.json).")] = Path("model.joblib"),
    preset: Annotated[Optional[str], typer.Option("--preset", "--base", help=f"Train on a named recipe "
                                                  f"({', '.join(PRESETS)}); 'default' builds the shipped model.")] = None,
    add: Annotated[Optional[list[str]], typer.Option("--add", help="Also train on these folders of your own labeled "
                                                     "pages (native format, e.g. from `winnow label`), in the HTML and "
                                                     "the text model.")] = None,
    test: Annotated[Optional[list[str]], typer.Option("--test", help="Held-out datasets scored for the model card.")] = None,
    text: Annotated[Optional[list[str]], typer.Option("--text", help="Also fit a model for plain-text pages on these "
                                                      "datasets, e.g. dragnet:train@text (labeled HTML rendered to text; "
                                                      "@text2 renders the pages again in other styles).")] = None,
    text_test: Annotated[Optional[list[str]], typer.Option("--text-test", help="Held-out data for the text model.")] = None,
    max_iter: Annotated[int, typer.Option(help="Boosting iterations.")] = MAX_ITER,
    chrome_share: Annotated[Optional[float], typer.Option(
        min=0.01, max=1.0, help="Fit the boosting on this share of the chrome blocks, each counted 1/share times: "
                                "faster on large sets (default: 1, or the preset's: 0.5 for default, whose text model keeps 0.35)")] = None,
    datasets: DatasetsOption = None,
) -> None:
    """Fit a model on labeled pages and write it with its model card."""
    from winnow.train.fit import train as train_model

    with _clear_errors():
        specs, test_specs = list(data or []), list(test or [])
        text_specs, text_test_specs = list(text or []), list(text_test or [])
        text_params, recipe = None, {}
        if preset:
            if preset not in PRESETS:
                raise TrainingError(f"unknown preset {preset!r} (choose from {', '.join(PRESETS)})")
            recipe = PRESETS[preset]
            specs, test_specs = specs or recipe["train"], test_specs or recipe["test"]
            text_specs, text_test_specs = text_specs or recipe["text"], text_test_specs or recipe["text_test"]
            text_params = recipe.get("text_params")
        for folder in add or []:
            specs = [*specs, folder]
            if text_specs:  # the folder's HTML pages, rendered to text with their labels, for the text model
                text_specs = [*text_specs, f"{folder}@text"]
        if not specs:
            raise TrainingError("name the training data (e.g. `winnow train dragnet:train`) or a --preset")
        model = train_model(specs, test_specs, datasets, text_specs, text_test_specs, max_iter=max_iter,
                            chrome_share=chrome_share or recipe.get("chrome_share", 1.0),
                            dataset_weights=recipe.get("dataset_weights"), text_params=text_params,
                            log=lambda m: err.print(m, highlight=False))
        model.save(output)
        card_path = output.with_name(output.name.removesuffix(".joblib") + ".card.json")
        card_path.write_text(_json(model.card))
    err.print(f"wrote {output} and {card_path}", highlight=False)
    for metrics in (model.card["metrics"], (model.card.get("text_model") or {}).get("metrics", {})):
        for part, scores in metrics.get("tokens", {}).items():
            err.print(f"{', '.join(metrics['data'])} {part} token F1: {scores['f1']:.3f} over {scores['pages']} pages")


@app.command()
def label(
    inputs: InputsArgument = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the labeled pages (the native labeled "
                                      "format; reopening it resumes where you left off).")] = Path("labeled"),
    model: ModelOption = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 0,
    open_browser: Annotated[bool, typer.Option("--open/--no-open", help="Open the UI in a browser.")] = True,
    input_format: InputFormatOption = InputFormat.auto,
    from_file: FromFileOption = None,
) -> None:
    """Label pages block by block in the browser, pre-labeled by the model; saves as you go."""
    import webbrowser

    from winnow.label.server import LabelServer
    from winnow.label.store import LabelSession
    from winnow.predict.sources import is_archive

    with _clear_errors():
        sources = require_pages(inputs, from_file)
        if any(is_archive(source) or source == "-" for source in sources):
            raise PageError("name page files or folders to label (not stdin or web archives)")
        session = LabelSession(sources, out, load_model(model), input_format.value)
        server = LabelServer(session, port)
    err.print(f"labeling {_count(len(session.pages), 'page')} into {out}/ at [bold]{server.url}[/] (Ctrl-C to stop)",
              highlight=False)
    if open_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        saved = sum(session.labeled_path(p.number).exists() for p in session.pages)
        err.print(f"stopped; {saved} of {len(session.pages)} pages labeled in {out}/", highlight=False)
    finally:
        server.server_close()


@app.command()
def suggest(inputs: InputsArgument = None, model: ModelOption = None,
            top: Annotated[int, typer.Option("--top", "-n", help="Show this many pages (0: all).")] = 20,
            as_json: Annotated[bool, typer.Option("--json", help="JSON Lines {page, doubt, unsure_blocks, blocks}.")] = False,
            input_format: InputFormatOption = InputFormat.auto, from_file: FromFileOption = None,
            jobs: JobsOption = 0, quiet: QuietOption = False) -> None:
    """Rank unlabeled pages by how unsure the model is about them: label the first ones first."""
    from rich.table import Table

    from winnow.label.suggest import suggest as rank

    with _clear_errors():
        sources = require_pages(inputs, from_file)
        options = BatchOptions(input_format.value, not quiet and err.is_terminal, jobs=resolve_jobs(jobs, sources))
        ranked, summary = rank(load_model(model), sources, options)
    shown = ranked[:top] if top else ranked
    if as_json:
        sys.stdout.write("".join(json.dumps(r) + "\n" for r in shown))
    else:
        table = Table("rank", "page", "doubt", "unsure blocks", title="pages to label first")
        for rank_number, r in enumerate(shown, 1):
            table.add_row(str(rank_number), escape(r["page"]), f"{r['doubt']:.3f}", f"{r['unsure_blocks']} of {r['blocks']}")
        Console(soft_wrap=True).print(table)
    _finish(summary, True, None)


class GroupBy(str, Enum):
    domain = "domain"
    page = "page"


@app.command()
def evaluate(
    data: Annotated[list[str], typer.Argument(help="Labeled datasets to score on (see `winnow train --help`).")],
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the report as Markdown.")] = False,
    html: Annotated[Optional[Path], typer.Option(
        "--html", help="Also write the report as one self-contained HTML page with plots (opens offline).")] = None,
    cv: Annotated[Optional[int], typer.Option(
        "--cv", min=2, help="Cross-validate instead: fit a model on K-1 folds of DATA (as `winnow train --preset "
                            "default` fits its HTML or text model) and score the held-out fold, "
                            "K times; prints per-fold and mean ± std token scores. Needs no --model.")] = None,
    group_by: Annotated[Optional[GroupBy], typer.Option(
        "--group-by", help="With --cv: keep each site (domain: the dataset's group, the page itself for dragnet "
                           "and your own pages) or each page on one side of every split. Default: domain.")] = None,
    max_iter: Annotated[Optional[int], typer.Option(
        "--max-iter", min=1, help=f"With --cv: boosting iterations of each fold's model (default: the default "
                                  f"preset's, {MAX_ITER} for HTML pages).")] = None,
    cv_add: Annotated[Optional[list[str]], typer.Option(
        "--cv-add", help="With --cv: labeled data every fold's model is also fitted on and never scored "
                         "(repeat it: --cv-add wcxb-dev --cv-add cleaneval), as the default model is fitted on "
                         "several sets.")] = None,
    datasets: DatasetsOption = None,
) -> None:
    """Score a model: token and block precision / recall / F1, confusion, worst pages, alignment coverage.

    --html also writes the report as a page with plots; --cv K cross-validates on DATA instead.
    """
    from winnow.train.report import markdown_cv_report, markdown_report, print_cv_report, print_report

    if cv is None and (group_by is not None or max_iter is not None or cv_add):
        raise typer.BadParameter("goes with --cv", param_hint="'--group-by' / '--max-iter' / '--cv-add'")
    if cv is not None and model is not None:
        raise typer.BadParameter("--cv fits its own model per fold: leave out --model", param_hint="'--model'")
    if cv is not None and html is not None:
        raise typer.BadParameter("the HTML report is for a model's evaluation, not for --cv", param_hint="'--html'")
    with _clear_errors():
        if cv is not None:
            from winnow.train.crossval import cross_validate

            report = cross_validate(data, cv, (group_by or GroupBy.domain).value, datasets, max_iter=max_iter,
                                    add=cv_add, log=lambda m: err.print(m, highlight=False, markup=False, emoji=False))
        else:
            from winnow.train.evaluate import evaluate as evaluate_model

            report = evaluate_model(load_model(model), data, datasets)
    if html is not None:
        from winnow.train.html_report import write_html

        try:
            write_html(report, html)
        except OSError as error:
            err.print(f"[red]error:[/] {escape(f'{html}: cannot write the HTML report: {error.strerror or error}')}",
                      highlight=False)
            raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(_json(report))
    elif markdown:
        sys.stdout.write((markdown_cv_report if cv is not None else markdown_report)(report))
    else:
        (print_cv_report if cv is not None else print_report)(report, Console())
    if html is not None:
        sys.stdout.flush()
        err.print(f"wrote {html}", highlight=False, markup=False, emoji=False)


@app.command()
def info(model: ModelOption = None,
         as_json: Annotated[bool, typer.Option("--json", help="Print the whole model card as JSON.")] = False) -> None:
    """Show a model's card: labels, training data and licences, features, versions, held-out metrics."""
    with _clear_errors():
        card = load_model(model).card
    if as_json:
        sys.stdout.write(_json(card))
        return
    console = Console(emoji=False)
    console.print(f"[bold]winnow model[/] created {card.get('created')}, labels {', '.join(card.get('labels', []))}")
    console.print(f"classifier {card.get('classifier')} {card.get('params')}, {card['features']['count']} features")
    for row in card["training_data"]["datasets"]:
        console.print(f"  trained on {row['dataset']}: {row['pages']:,} pages, blocks {row['blocks']}; "
                      f"licence: {row['license']}", highlight=False)
    text_card = card.get("text_model") or {}
    for row in (text_card.get("training_data") or {}).get("datasets", []):
        console.print(f"  text model trained on {row['dataset']}: {row['pages']:,} pages rendered to text", highlight=False)
    if text_card.get("comment_threshold") is not None:
        console.print(f"  text model labels a line comment from comment probability {text_card['comment_threshold']}")
    for metrics in (card.get("metrics", {}), text_card.get("metrics", {})):
        for part, scores in metrics.get("tokens", {}).items():
            console.print(f"  {', '.join(metrics['data'])} {part} token F1 {scores['f1']:.3f} "
                          f"(P {scores['precision']:.3f}, R {scores['recall']:.3f}, {scores['pages']} pages)")
    console.print(f"versions: {card.get('versions')}", highlight=False)
    missing = unbuilt()
    if not missing:
        console.print("this install has all its compiled modules", highlight=False)
    for name in missing:
        console.print(f"this install lacks {name}, {MODULES[name]}: reinstall where a C compiler and the "
                      "Python headers are", highlight=False)


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="Model file to read (.joblib or .skops).")],
    target: Annotated[Path, typer.Argument(help="Model file to write: .skops (safe to share) or .joblib.")],
) -> None:
    """Rewrite a model file in another format; .skops files load without running code: share those."""
    with _clear_errors():
        load_model(source).save(target)
    err.print(f"wrote {target}", highlight=False)


@app.command()
def render(
    page: Annotated[str, typer.Argument(help="An HTML page (file, .gz, or - for stdin).")],
    labels: Annotated[bool, typer.Option("--labels", help="Prefix each line with its label and a tab (winnow's "
                                         "native labeled text format): the page's own data-label attributes "
                                         "where it has them, else the model's prediction.")] = False,
    model: ModelOption = None,
    output: OutputOption = None,
) -> None:
    """Render an HTML page to plain text, one block per line, as a browser's text view would."""
    from winnow.render import render_page

    with _clear_errors():
        text = render_page(read_page(page, "html"), labels, get_model=lambda: load_model(model))
        with open_output(output) as out:
            out.write(text)
