"""Run the benchmarks: every module ``bench/bench_*.py`` has ``main(argv: list[str]) -> None``.

``python -m bench`` runs them all; ``python -m bench NAME [args...]`` runs ``bench/bench_NAME.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    here = Path(__file__).parent
    names = sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules([str(here)])
                   if m.name.startswith("bench_"))
    if argv and argv[0] in ("-h", "--help"):
        print("usage: python -m bench [NAME [ARGS...]]; benchmarks:", ", ".join(names))
        return
    chosen = [argv[0]] if argv else names
    for name in chosen:
        if name not in names:
            raise SystemExit(f"unknown benchmark {name!r}; choose one of {', '.join(names)}")
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"\n== {name} ==")
        module.main(argv[1:] if argv else [])


if __name__ == "__main__":
    main(sys.argv[1:])
