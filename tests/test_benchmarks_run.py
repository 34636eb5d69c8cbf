"""The benchmarks run as the docs say, `python benchmarks/NAME.py`, from a fresh clone: Python puts benchmarks/
on the path, not the repository, so each imports benchmarks/_root.py before the project's packages."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
OURS = ("digits", "webapp", "testkit", "tests")


def _imports(tree: ast.Module) -> list[str]:
    return [n.module if isinstance(n, ast.ImportFrom) else n.names[0].name
            for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) and (
                not isinstance(n, ast.ImportFrom) or n.module)]


SCRIPTS = sorted(p for p in BENCHMARKS.glob("*.py") if p.name != "_root.py")


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_a_benchmark_that_uses_the_project_puts_it_on_the_path_first(path):
    names = _imports(ast.parse(path.read_text()))
    ours = [i for i, name in enumerate(names) if name.split(".")[0] in OURS]
    if ours:
        assert "_root" in names and names.index("_root") < ours[0], path.name


def test_a_benchmark_runs_as_a_script_without_any_path_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, str(BENCHMARKS / "unseen.py"), "--help"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--sheet" in done.stdout
