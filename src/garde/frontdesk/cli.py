"""`garde frontdesk ...`: the front-desk registers from the command line (mounted by garde.cli)."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from garde.cli_support import fail, find_crisis, setup_django

app = typer.Typer(help="Front-desk downtime registers: export for re-integration.", no_args_is_help=True)
console = Console()


@app.callback()
def frontdesk():
    """Front-desk downtime registers: export for re-integration."""
    # A callback keeps `export` a sub-command (`garde frontdesk export`) even while it is the only one.


@app.command()
def export(
    crisis: Annotated[str, typer.Argument(help="Crisis id, or a unique part of its title.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the archive to.")] = Path("."),
    full: Annotated[bool, typer.Option("--full", help="Export every record again, not only new or changed ones.")] = False,
    again: Annotated[int | None, typer.Option("--again", help="Write export number N again, byte for byte.")] = None,
):
    """Export the registers (FHIR R4 Bundle, CSV per register, scans) as a ZIP for re-integration."""
    setup_django()
    from garde.frontdesk import reintegration
    from garde.frontdesk.models import ExportBatch

    found = find_crisis(crisis)
    if not output.is_dir():
        fail(f"{output} is not a folder.")
    if again is not None:
        batch = ExportBatch.objects.filter(crisis=found, number=again).first()
        if batch is None:
            fail(f"export {again} does not exist for this crisis.")
    else:
        batch = reintegration.export(found, None, full=full)
        if batch is None:
            console.print("Nothing new to export since the last export.")
            raise typer.Exit(0)
    target = output / batch.filename
    target.write_bytes(reintegration.read_archive(batch))
    counts = ", ".join(f"{name}: {n}" for name, n in batch.counts.items())
    console.print(f"Export {batch.number} written to [bold]{target}[/bold] ({counts}).")
    console.print(f"SHA-256 {batch.sha256}")
