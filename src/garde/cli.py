"""The `garde` command: run the server, load the demo, verify the log, move a crisis, run the worker.

Django is set up only by the commands that need it, so that `garde scan` starts fast and runs on a
machine with no database.
"""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from garde.cli_support import console, fail, find_crisis, migrate_database, setup_django
from garde.frontdesk import cli as frontdesk_cli
from garde.scanner import cli as scanner_cli
from garde.systems import cli as systems_cli

app = typer.Typer(help="Garde: keep a hospital running through a cyberattack.", no_args_is_help=True)
log_app = typer.Typer(help="The running log (main courante).", no_args_is_help=True)
app.add_typer(log_app, name="log")
app.command("scan")(scanner_cli.scan_command)
app.command("scan-corpus")(scanner_cli.corpus_command)
app.command("scan-eval")(scanner_cli.eval_command)
app.add_typer(frontdesk_cli.app, name="frontdesk")
app.add_typer(systems_cli.app, name="map")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    threads: Annotated[int, typer.Option(help="Worker threads.")] = 8,
):
    """Serve Garde (applies pending database migrations first)."""
    # On the loopback address of a laptop there is no TLS: cookies must travel over plain HTTP. Behind a
    # TLS reverse proxy (GARDE_BEHIND_PROXY) they stay secure even though Garde listens on loopback.
    loopback = host in ("127.0.0.1", "localhost", "::1")
    setup_django(insecure_http=loopback and not os.environ.get("GARDE_BEHIND_PROXY"))
    migrate_database()
    from waitress import serve as waitress_serve

    from garde.wsgi import application

    console.print(f"Garde is served on [bold]http://{host}:{port}/[/bold] (Ctrl+C to stop).")
    waitress_serve(application, host=host, port=port, threads=threads)


@app.command()
def demo():
    """Create the demo hospital (CHU de Démo) and print the demo accounts with fresh passwords."""
    setup_django()
    migrate_database()
    from garde.cell.demo import load_demo

    accounts = load_demo()
    table = Table(title="Comptes de démonstration / demo accounts")
    for column in ("user name", "role", "password"):
        table.add_column(column)
    for username, (role, password) in accounts.items():
        table.add_row(username, role, password)
    console.print(table)
    console.print("Passwords change each time `garde demo` runs.")


@app.command()
def crises():
    """List the crises with their ids."""
    setup_django()
    from garde.cell.models import Crisis

    table = Table()
    for column in ("id", "title", "T0", "phase"):
        table.add_column(column)
    for crisis in Crisis.objects.all():
        table.add_row(str(crisis.pk), crisis.title, crisis.t0.isoformat(timespec="minutes"), crisis.phase)
    console.print(table)


@log_app.command("verify")
def log_verify(crisis: Annotated[str | None, typer.Argument(help="Crisis id or part of its title; all when omitted.")] = None):
    """Check the hash chain of the running log; exit code 1 names the first broken entry."""
    setup_django()
    from garde.cell import journal
    from garde.cell.models import Crisis

    targets = [find_crisis(crisis)] if crisis else list(Crisis.objects.all())
    broken = False
    for target in targets:
        report = journal.verify(target)
        if report.ok:
            console.print(f"[green]OK[/green] {target.title}: {report.checked} entries, last hash {report.last_hash}")
        else:
            broken = True
            console.print(f"[red]BROKEN[/red] {target.title}: {report.first_break.message}")
    raise typer.Exit(1 if broken else 0)


@app.command()
def backup(
    crisis: Annotated[str, typer.Argument(help="Crisis id or part of its title.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Archive to write (.tar.gz).")],
):
    """Write a whole crisis (database content and attachments) to one archive with a manifest of hashes."""
    setup_django()
    from garde.cell.backup import write_backup

    if out.exists():
        fail(f"{out} already exists; choose another file name.")
    manifest = write_backup(find_crisis(crisis), out)
    console.print(f"Wrote {out} ({len(manifest['files'])} files, log last hash {manifest['log_last_hash']}).")


@app.command()
def restore(archive: Annotated[Path, typer.Argument(help="Archive written by `garde backup`.")]):
    """Load a crisis from a backup archive, after checking every hash; nothing is written if one fails."""
    setup_django()
    migrate_database()
    from garde.cell.backup import BackupError, restore_backup

    try:
        result = restore_backup(archive)
    except BackupError as exc:
        fail(f"{exc} Nothing was restored.")
    console.print(f"Restored “{result.crisis.title}”: {result.objects} objects, {result.files} attachments; log verified.")


@app.command()
def worker():
    """Run the background task worker (django-tasks-db)."""
    setup_django()
    from django.core.management import call_command

    call_command("db_worker")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context):
    """Run a Django management command, e.g. `garde manage createsuperuser`."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["garde manage", *ctx.args])


def main():  # pragma: no cover - console entry point
    app(prog_name="garde")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
