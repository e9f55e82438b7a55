"""Read settings from environment variables, refusing bad values with a message naming the variable.

Garde runs on machines set up in a hurry during a crisis: a typo in a variable must stop the start-up
with a sentence a non-developer understands, never fall back silently to a default.
"""

import os
from pathlib import Path


class SettingError(Exception):
    """An environment variable holds a value Garde cannot use."""


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingError(f"{name}={raw!r} is not a yes/no value: use one of {sorted(TRUE_WORDS | FALSE_WORDS)}.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise SettingError(f"{name}={value} is below the minimum {minimum}.")
    if maximum is not None and value > maximum:
        raise SettingError(f"{name}={value} is above the maximum {maximum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: list[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise SettingError(f"{name}={value!r} is not one of {choices}.")
    return value


def env_dir(name: str, default: Path) -> Path:
    """A directory Garde writes to; created if missing, refused if it cannot be."""
    path = Path(env_str(name) or default).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingError(f"{name}: cannot create the directory {path} ({exc.strerror}).") from None
    if not os.access(path, os.W_OK):
        raise SettingError(f"{name}: the directory {path} is not writable.")
    return path


def secret_from_env_or_file(name: str, generated_file: Path, generate) -> str:
    """A secret from NAME, from the file named by NAME_FILE, or else generated once into generated_file.

    The generated file lets the embedded default start with no variable at all while keeping sessions
    valid across restarts.
    """
    value = env_str(name)
    if value:
        return value
    file_name = env_str(f"{name}_FILE")
    if file_name:
        path = Path(file_name)
        try:
            value = path.read_text().strip()
        except OSError as exc:
            raise SettingError(f"{name}_FILE: cannot read {path} ({exc.strerror}).") from None
        if not value:
            raise SettingError(f"{name}_FILE: {path} is empty.")
        return value
    if generated_file.exists():
        return generated_file.read_text().strip()
    value = generate()
    generated_file.touch(mode=0o600)
    generated_file.write_text(value)
    return value
