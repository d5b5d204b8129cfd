"""Where the bundled files are. A leaf module (it imports nothing of the engine), so that facts.py
(the schema folder) and policyset.py (the default policies) both find them without importing
each other."""

from __future__ import annotations

from pathlib import Path


def policies_root() -> Path:
    """The bundled policies: inside the installed package, or the checkout's `policies/`. Worked
    out once per process (a start asks eight times, each a resolve of this file's path)."""
    global _ROOT
    if _ROOT is None:
        here = Path(__file__).resolve().parent
        installed = here / "_policies"          # in a wheel
        _ROOT = installed if (installed / "schema").is_dir() else here.parent / "policies"
    return _ROOT


_ROOT: Path | None = None
