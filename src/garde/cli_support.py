"""What every `garde` sub-command shares: Django set-up on demand, error output, finding a crisis.

Kept apart from garde.cli so that the modules' own commands (front desk, map) can use it without a
circular import.
"""

import os

import typer
from rich.console import Console

console = Console()
errors = Console(stderr=True)


def setup_django(insecure_http: bool = False) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "garde.settings")
    if insecure_http:
        os.environ.setdefault("GARDE_INSECURE_HTTP", "yes")
    import django

    from garde.lib.env import SettingError

    try:
        django.setup()
    except SettingError as exc:
        errors.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from None
    from django.conf import settings
    from django.utils import translation

    # What the CLI writes into the crisis (log entries of the demo, restore messages) is in the UI's language.
    translation.activate(settings.LANGUAGE_CODE)


def migrate_database() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def fail(message: str, code: int = 2):
    errors.print(f"[red]Error:[/red] {message}")
    raise typer.Exit(code)


def find_crisis(reference: str):
    from django.core.exceptions import ValidationError

    from garde.cell.models import Crisis

    try:
        found = Crisis.objects.filter(pk=reference).first()
    except ValidationError:
        found = None
    if found:
        return found
    matches = list(Crisis.objects.filter(title__icontains=reference)[:2])
    if len(matches) == 1:
        return matches[0]
    fail(f"no single crisis matches “{reference}” ({len(matches)} found): use its id from `garde crises`.")
