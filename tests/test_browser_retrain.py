"""The retrain step of the workshop arc in a real Chromium against a real `streamlit run app.py`: a room's
drawings in the store, the Train page's fine-tune button, Start, and the before → after table at the end.
Slow (real MNIST, a real one-epoch fine-tune): `pytest -m slow tests/test_browser_retrain.py`."""

import json
import os
import re
import time
from contextlib import closing

import pytest

from digits import drawings as store, load_checkpoint
from digits.control import stop_run
from digits.runs import list_runs, run_state
from testkit.served import SHOTS, launch, open_page, wait_idle
from tests.helpers import segment_room

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def room_server(tmp_path_factory):
    """The app with its own runs folder and a drawings store holding 200 calculator-style drawings."""
    tmp = tmp_path_factory.mktemp("room")
    model, _ = load_checkpoint("checkpoints/lenet5.pt")
    room = segment_room(20, model)
    with closing(store.connect(tmp / "room.sqlite")) as db:
        for part in (room.train, room.val, room.held_out):
            for i, (x, y) in enumerate(zip(part.images.numpy(), part.labels.tolist())):
                store.add(db, x, y, f"person-{i}")  # a person each: the rate limit is per browser session
    url, proc = launch({**os.environ, "DIGITS_RUNS": str(tmp / "runs")}, drawings=tmp / "room.sqlite")
    yield url, tmp / "runs"
    proc.terminate()
    proc.wait(timeout=20)
    for run in list_runs(tmp / "runs"):
        if run_state(run) == "running":
            stop_run(run)


def test_the_fine_tune_button_retrains_on_the_room_and_shows_before_and_after(room_server, browser):
    url, runs = room_server
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        open_page(page, url, "train", "Train")
        page.get_by_role("button", name="Fine-tune on the room's drawings").click()
        page.get_by_text(re.compile(r"The room has 200 labelled digit drawings")).wait_for(timeout=30_000)
        wait_idle(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "retrain-form.png"))
        assert page.get_by_label("Room's drawings", exact=True).is_checked()
        page.get_by_role("button", name="Start training").click()
        # exact: the event log's last line ("Finished … ; before → after: …") holds the same words, so a
        # substring match finds two elements once the log is drawn, and strict mode refuses it.
        page.get_by_text("Before → after", exact=True).wait_for(timeout=300_000)
        time.sleep(2)  # the run's end redraws the whole page once (its selector, the panel): let that land
        wait_idle(page)
        page.get_by_text("Before → after", exact=True).wait_for(timeout=30_000)
        table = page.locator("[data-testid='stTable']").first
        table.scroll_into_view_if_needed()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "retrain-before-after.png"))
        (run,) = list_runs(runs)
        final = [line for line in (run / "events.jsonl").read_text().splitlines() if '"finished"' in line]
        assert final, "the run did not finish"
        e = json.loads(final[0])
        assert e["before_room_acc"] is not None and e["room_acc"] > e["before_room_acc"]
        assert abs(e["test_acc"] - e["before_test_acc"]) <= 0.003
        # The page shows those very figures.
        text = page.locator("[data-testid='stMain']").inner_text()
        assert f"{e['room_acc']:.2%}" in text and f"{e['before_room_acc']:.2%}" in text
    finally:
        context.close()
