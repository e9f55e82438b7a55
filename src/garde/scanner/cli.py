"""`garde scan`: the command-line face of the scanner (typer + rich)."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from garde.scanner import ScanInputError, ScanSettings, scan
from garde.scanner.link import linkage_warning
from garde.scanner.worker import default_jobs

app = typer.Typer(help="Leak scanner: which personal data leaked, and how many people are concerned.", no_args_is_help=True)
console = Console(stderr=True)


@app.callback()
def main() -> None:
    """Garde leak scanner."""


@app.command("scan")
def scan_command(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders or archives of the leaked dump.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (new or empty, unless --resume).")],
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", help="Worker processes (default: one per core, as many as the free memory holds); 0 scans in this process."),
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted scan in the same output folder.")] = False,
    reveal: Annotated[bool, typer.Option("--reveal", help="Also store clear values (recorded in the manifest).")] = False,
    file_timeout: Annotated[
        float, typer.Option("--file-timeout", min=1, help="Seconds allowed per file, plus --file-timeout-per-mb for each MB of it.")
    ] = 600.0,
    file_timeout_per_mb: Annotated[
        float, typer.Option("--file-timeout-per-mb", min=0, help="Seconds added to --file-timeout for each MB of a file.")
    ] = 20.0,
    no_ner: Annotated[bool, typer.Option("--no-ner", help="Names in free text from rules only, without spaCy NER (faster).")] = False,
    engine: Annotated[str, typer.Option("--engine", help="local (worker processes here) or dask (a Dask cluster).")] = "local",
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786); without it --engine dask starts a local cluster of --jobs workers.")
    ] = None,
) -> None:
    """Scan a leaked dump and write findings, persons and a summary to --out."""
    if jobs is None:
        jobs = default_jobs(ner_on=not no_ner)
        console.print(f"{jobs} worker process{'es' if jobs > 1 else ''} (--jobs to choose).")
    settings = ScanSettings(jobs=jobs, reveal=reveal, resume=resume, engine=engine, scheduler=scheduler, ner=not no_ner)
    settings.limits.file_seconds = file_timeout
    settings.limits.file_seconds_per_mb = file_timeout_per_mb
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[files]} files, {task.fields[findings]} findings, {task.fields[errors]} errors"),
        console=console,
        transient=True,
    )
    task = bar.add_task("Scanning", total=None, files=0, findings=0, errors=0)
    counts = {"files": 0, "findings": 0, "errors": 0}

    def progress(event: str, **info) -> None:
        if event == "start":
            bar.update(task, total=info["total"])
            if info.get("engine") == "dask":
                bar.update(task, description=f"Scanning on Dask ({info['workers']} workers at {info['scheduler']})")
        elif event == "advance":
            bar.advance(task, info["size"])
        elif event == "file":
            counts["files"] += 1
            counts["findings"] += info.get("findings") or 0
            counts["errors"] += 1 if info.get("error") else 0
            bar.update(task, **counts)
        elif event == "issue" and info["issue"].kind == "error":
            counts["errors"] += 1
            bar.update(task, **counts)
        elif event == "report":
            bar.update(task, description="Linking and writing the report")

    try:
        with bar:
            result = scan(paths, out, settings, progress)
    except ScanInputError as error:
        _fail(error)
    _print_summary(result.summary, result.manifest, out)


def _fail(error: Exception) -> None:
    """Bad input: one line on stderr (never wrapped), exit code 2."""
    console.print(f"[red]error:[/red] {error}", soft_wrap=True, highlight=False)
    raise typer.Exit(2)


def _print_summary(summary: dict, manifest: dict, out: Path) -> None:
    output = Console()
    persons = summary["persons"]
    table = Table(title="Personal data found")
    table.add_column("Category")
    table.add_column("Findings", justify="right")
    table.add_column("Persons (best estimate)", justify="right")
    for category, counts in summary["categories"].items():
        table.add_row(category, str(counts["findings"]), str(counts["persons"]))
    output.print(table)
    files = summary["files"]
    output.print(
        f"Persons concerned: [bold]{persons['best']}[/bold] (range {persons['lower']} to {persons['upper']}). "
        f"Files: {files['seen']} seen, {files['distinct_scanned']} distinct scanned, {files['duplicates']} duplicates, "
        f"{files['errors']} errors, {files['encrypted']} encrypted. "
        f"Duration {manifest['duration_s']:.1f} s. Output: {out}"
    )
    warning = linkage_warning(manifest["linkage"])
    if warning:
        output.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


@app.command("scan-corpus")
def corpus_command(
    out: Annotated[Path, typer.Argument(help="New or empty folder: the dump goes to OUT/dump, the truth to OUT/truth.json.")],
    persons: Annotated[int, typer.Option("--persons", help="Number of people in the dump.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed writes the same bytes.")] = 0,
) -> None:
    """Write a synthetic leaked-hospital dump with its ground truth, to measure garde scan."""
    from garde.scanner.corpus import CorpusInputError, write_corpus

    try:
        truth = write_corpus(out, persons, seed)
    except CorpusInputError as error:
        _fail(error)
    size = sum(f.stat().st_size for f in (out / truth["dump"]).rglob("*") if f.is_file())
    Console().print(
        f"{truth['persons_count']} persons, {len(truth['values'])} personal values in {len(truth['files'])} files "
        f"({len(truth['decoys'])} decoys, {size / 1e6:.1f} MB). Scan {out / truth['dump']}, then: garde scan-eval RESULT {out / 'truth.json'}"
    )


@app.command("scan-eval")
def eval_command(
    result: Annotated[Path, typer.Argument(help="Output folder of garde scan (with its scan.key, or GARDE_SCAN_KEY set).")],
    truth: Annotated[Path, typer.Argument(help="truth.json written by garde scan-corpus (or its folder).")],
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")] = None,
) -> None:
    """Precision and recall per category, and the person-count error, of a scan of a synthetic corpus."""
    import json

    from garde.scanner.evaluate import EvalInputError, evaluate

    try:
        figures = evaluate(result, truth)
    except EvalInputError as error:
        _fail(error)
    output = Console()
    table = Table(title="Scan against the truth (distinct values per file)")
    for name in ("Category", "Truth", "Found", "Precision", "Recall", "In decoys"):
        table.add_column(name, justify="left" if name == "Category" else "right")

    def ratio(value) -> str:
        return "-" if value is None else f"{value:.4f}"

    for category, c in [*figures["categories"].items(), ("all", {**figures["overall"], "in_decoys": sum(c["in_decoys"] for c in figures["categories"].values())})]:
        table.add_row(category, str(c["truth"]), str(c["found"]), ratio(c["precision"]), ratio(c["recall"]), str(c["in_decoys"]))
    output.print(table)
    p = figures["persons"]
    output.print(
        f"Persons: truth {p['truth']}, best estimate {p['best']} (error {p['best_error']:+d}, {p['best_error_ratio']:+.2%}), "
        f"range {p['lower']} to {p['upper']}: truth {'within' if p['within_range'] else 'OUTSIDE'} the range."
    )
    if json_out:
        json_out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
