"""``python -m exemplar_vc``: the same command as ``exemplar-vc``."""

from .cli.main import main

if __name__ == "__main__":  # pragma: no cover - runs as a script
    raise SystemExit(main())
