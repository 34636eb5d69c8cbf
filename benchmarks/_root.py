"""Imported first by each benchmark: run as `python benchmarks/NAME.py`, Python puts benchmarks/ on the path, not
the repository, so this puts the repository's packages (digits, webapp, testkit, tests) there too."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
