"""`make bench`: run every benchmark module ``bench/bench_*.py`` and print its figures.

Each module defines ``main() -> None`` that times its subject (several repetitions in one run) and
prints a small table. Benchmarks print numbers; they do not assert on time (timed tests are flaky).
Run one module with ``python bench/run.py transformer``.
"""
from __future__ import annotations

import importlib.util
import platform
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = set(argv)
    modules = sorted(HERE.glob("bench_*.py"))
    if wanted:
        modules = [m for m in modules if m.stem.removeprefix("bench_") in wanted]
        missing = wanted - {m.stem.removeprefix("bench_") for m in modules}
        if missing:
            print(f"bench: no benchmark named {sorted(missing)} in {HERE}", file=sys.stderr)
            return 2
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    for path in modules:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        print(f"\n## {path.stem}")
        start = time.perf_counter()
        threads = torch.get_num_threads()
        try:
            mod.main()
        finally:
            torch.set_num_threads(threads)  # a benchmark that pins threads must not pin the next one's
        print(f"({path.stem} took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
