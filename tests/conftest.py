"""Fixtures shared by the tests; the helpers they use are in tests/helpers.py and testkit/served.py."""

import os
from pathlib import Path

import numpy as np
import pytest

from digits import classify, load_checkpoint
from digits.data import Splits
from digits.handdrawn import draw
from testkit.served import CHROMIUM, ROOT, launch
from tests.helpers import synthetic_split

# Pages run in this process (AppTest) start no spare training process (digits.spare); a real server
# (testkit/served.py) does, as the app does for its users.
os.environ.setdefault("DIGITS_SPARE", "0")


@pytest.fixture
def tiny_splits() -> Splits:
    return Splits(train=synthetic_split(512, 1), val=synthetic_split(128, 2), test=synthetic_split(128, 3))


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of the tests' own (testkit/postgres.py), for the store's tests against both stores."""
    from testkit.postgres import Server, missing

    if (why := missing()) and os.environ.get("DIGITS_REQUIRE_POSTGRES") != "1":
        pytest.skip(f"{why}; CI sets DIGITS_REQUIRE_POSTGRES=1 and fails instead")
    server = Server()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request, tmp_path):
    """Where a drawings store lives: a file (SQLite, the embedded default), or a new database on the tests'
    PostgreSQL server (the shared store of replicas on several machines): the same tests pass against both."""
    if request.param == "sqlite":
        return tmp_path / "room.sqlite"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture(scope="module")
def drawings_file(tmp_path_factory) -> Path:
    """The drawings store of the module's server (a test may read it through digits.drawings)."""
    return tmp_path_factory.mktemp("room") / "drawings.sqlite"


@pytest.fixture(scope="module")
def server(tmp_path_factory, drawings_file):
    """A real `streamlit run app.py` with a runs folder and a drawings store of its own, for one test module:
    (url, runs folder)."""
    from digits.control import stop_run
    from digits.runs import list_runs, run_state

    runs = tmp_path_factory.mktemp("runs")
    url, proc = launch({**os.environ, "DIGITS_RUNS": str(runs)}, drawings=drawings_file)
    yield url, runs
    proc.terminate()
    proc.wait(timeout=20)
    for run in list_runs(runs):  # a test that failed halfway leaves no training process behind
        if run_state(run) == "running":
            stop_run(run)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, with the arguments it needs here (no sandbox, no GPU, no network)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    for folder in ("screenshots", "inside"):
        (ROOT / "artifacts" / folder).mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def shipped():
    """The shipped checkpoints' models, by name (tests of digits.inside, digits.explain, digits.robustness)."""
    return {name: load_checkpoint(f"checkpoints/{name}.pt")[0] for name in ("lenet5", "cnn")}


@pytest.fixture(scope="module")
def drawing():
    """A 7 drawn on a 280×280 canvas (digits.handdrawn)."""
    return draw(7, np.random.default_rng(0)).image


@pytest.fixture(scope="module")
def image(drawing, shipped):
    """The drawn 7 as the network reads it: (28, 28) in [0, 1]."""
    return classify(shipped["lenet5"], drawing).input
