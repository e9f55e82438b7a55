"""`garde map import|export|check`: the IS map on the command line, the same rules as in the UI.

`check` needs no database: it only reads files. `import` and `export` set Django up and work on the
stored map (an import is all or nothing and becomes a new version).
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="The IS map: import, export, check.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

FORMATS = ("yaml", "dot", "svg")
FILES_HELP = "map.yaml; or nodes.csv [dependencies.csv]; or Mercator *.xlsx exports [services.yaml]."


def _read(files: list[Path]):
    """A map from one YAML file, from nodes.csv [+ dependencies.csv], or from Mercator XLSX exports
    [+ one YAML file adding services and scenarios]; raises impact.MapError."""
    from garde import impact

    for path in files:
        if not path.is_file():
            errors.print(f"[red]Error:[/red] {path}: no such file")
            raise typer.Exit(2)
    workbooks = [p for p in files if p.suffix.lower() == ".xlsx"]
    if workbooks:
        extra = [p for p in files if p.suffix.lower() in (".yaml", ".yml")]
        if len(workbooks) + len(extra) == len(files) and len(extra) <= 1:
            return impact.load_mercator(workbooks, extra_yaml=extra[0].read_text("utf-8") if extra else None,
                                        extra_filename=extra[0].name if extra else "")
    elif len(files) == 1 and files[0].suffix.lower() in (".yaml", ".yml", ".json"):
        return impact.load_map(files[0])
    if files[0].suffix.lower() == ".csv" and len(files) <= 2:
        return impact.load_csv(files[0], files[1] if len(files) == 2 else None, name=files[0].stem)
    errors.print("[red]Error:[/red] give one YAML file, or nodes.csv with an optional dependencies.csv, "
                 "or Mercator XLSX exports with an optional YAML file")
    raise typer.Exit(2)


def _print_problems(problems) -> None:
    for problem in problems:
        colour = "yellow" if problem.severity == "warning" else "red"
        errors.print(f"[{colour}]{problem.severity}[/{colour}] {problem}", highlight=False, soft_wrap=True)


@app.command()
def check(files: Annotated[list[Path], typer.Argument(help=FILES_HELP)]):
    """Check a map without importing it: every error with its file, line or row, and field."""
    from garde import impact

    try:
        found = _read(files)
    except impact.MapError as error:
        _print_problems(error.problems)
        raise typer.Exit(1) from None
    for warning in found.warnings:
        errors.print(f"[yellow]warning[/yellow] {warning}", highlight=False, soft_wrap=True)
    console.print(f"{len(found.nodes)} nodes, {len(found.services)} business services, "
                  f"{len(found.warnings)} warnings: the map is valid.")


@app.command("import")
def import_(files: Annotated[list[Path], typer.Argument(help=FILES_HELP)]):
    """Import a map as the new current version (all or nothing)."""
    from garde.cli_support import migrate_database, setup_django

    setup_django()
    migrate_database()
    from garde import impact
    from garde.systems import store

    try:
        found = _read(files)
    except impact.MapError as error:
        _print_problems(error.problems)
        errors.print("Nothing was imported.")
        raise typer.Exit(1) from None
    version = store.save(found, source=" + ".join(p.name for p in files))
    for warning in found.warnings:
        errors.print(f"[yellow]warning[/yellow] {warning}", highlight=False, soft_wrap=True)
    console.print(f"Imported as version {version.number}: {version.node_count} nodes.")


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="yaml, dot or svg.")] = "yaml",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write; standard output when omitted.")] = None,
    version: Annotated[int | None, typer.Option(help="Version number; the current map when omitted.")] = None,
    scenario: Annotated[str | None, typer.Option(help="Colour by the state in this scenario (its name).")] = None,
):
    """Export the stored map as YAML, Graphviz DOT or SVG."""
    if fmt not in FORMATS:
        errors.print(f"[red]Error:[/red] format {fmt!r}: expected one of {', '.join(FORMATS)}")
        raise typer.Exit(2)
    from garde.cli_support import setup_django

    setup_django()
    from garde import impact
    from garde.systems import store
    from garde.systems.models import MapVersion, Scenario

    chosen = None
    if version is not None:
        chosen = MapVersion.objects.filter(number=version).first()
        if chosen is None:
            errors.print(f"[red]Error:[/red] no map version {version}")
            raise typer.Exit(2)
    try:
        loaded = store.load(chosen)
    except store.NoMap:
        errors.print("[red]Error:[/red] no map has been imported yet: garde map import map.yaml")
        raise typer.Exit(2) from None
    result = None
    if scenario:
        found = Scenario.objects.filter(name=scenario).first()
        if found is None:
            errors.print(f"[red]Error:[/red] no scenario named {scenario!r}")
            raise typer.Exit(2)
        try:
            result = impact.simulate(loaded.map, found.actions)
        except ValueError as error:
            errors.print(f"[red]Error:[/red] {error}")
            raise typer.Exit(2) from None
    if fmt == "yaml":
        text = loaded.version.yaml
    elif fmt == "dot":
        text = impact.to_dot(loaded.map, result)
    else:
        text = impact.to_svg(loaded.map, result, title=loaded.map.name)
    if out is None:
        print(text, end="")
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"Wrote {out} (version {loaded.version.number}).")
