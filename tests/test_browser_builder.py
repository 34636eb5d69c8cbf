"""Issue #29 end to end, in a real Chromium against a real `streamlit run app.py`: a learner builds a 3-layer ReLU
network in the Train page's builder (webapp/builder.py), sees its shapes and parameters follow each change, trains
it one epoch with the live charts, draws on it, looks inside it (every layer traced), and takes its ONNX file home:
ONNX Runtime reads MNIST's 10,000 test images to the probabilities PyTorch gives from the run's checkpoint.
Slow: `pytest -m slow tests/test_browser_builder.py`. Screenshots land in artifacts/screenshots/ (git-ignored)."""

import re
import time

import numpy as np
import onnxruntime as ort
import pytest
import torch

from digits import load_checkpoint
from digits.data import load_splits, normalize
from digits.inside import trace
from digits.runs import CHECKPOINT, list_runs
from testkit.served import SHOTS, draw, open_page, wait_idle

pytestmark = pytest.mark.slow
BUILT = "conv 8 3, relu, maxpool 2, flatten, linear 32, relu, linear 10"  # conv, linear, linear: each with a ReLU


def table(page) -> list[list[str]]:
    """The builder's layer table as the grid draws it: [#, does, output, parameters, layer] a row, input first."""
    cells = page.locator("[data-testid='stDataFrame'] [role='gridcell']").all_inner_texts()
    return [cells[i:i + 5] for i in range(0, len(cells), 5)]


def shows(page, rows: list[tuple[str, str, str]], parameters: int, timeout: float = 30) -> None:
    """Poll until the table lists `rows` after the input ((does, output, parameters) each) and the line under it
    says the network's parameters; fail with what the page shows."""
    want = [["1 × 28 × 28"], *([out, p] for _, out, p in rows)]
    line = f"{parameters:,} parameters · 10 outputs"
    deadline = time.time() + timeout
    while True:
        got = table(page)
        seen = [[got[0][2]], *([r[2], r[3].replace(",", "")] for r in got[1:])] if got else []
        if seen == want and [r[1] for r in got[1:]] == [d for d, _, _ in rows] and page.get_by_text(line).count():
            break
        assert time.time() < deadline, (got, line, page.locator("[data-testid='stAlert']").all_inner_texts())
        time.sleep(0.2)
    wait_idle(page)
    assert sum(int(r[3].replace(",", "")) for r in got) == parameters  # the rows add up to the line's count
    still_building(page)


def still_building(page, architecture: str = "Your own network") -> None:
    """The page took the change: no exception, and the Architecture still names the network being built, so the
    builder stays open (its words never change with the network: the browser sends back the words it shows)."""
    assert page.locator("[data-testid='stException']").count() == 0, \
        page.locator("[data-testid='stException']").all_inner_texts()
    chosen = page.get_by_role("combobox", name="Architecture", exact=True).input_value()
    assert chosen.startswith(architecture), f"the Architecture reads {chosen!r}, not {architecture!r}"


def choose(page, label: str, option: str) -> None:
    """Pick `option` (its whole words) in the selectbox labelled `label`."""
    box = page.get_by_role("combobox", name=label, exact=True)
    item = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):  # a rerun that lands just after the click redraws the box closed: open it again
        box.click()
        try:
            item.wait_for(timeout=5_000)
            break
        except Exception:
            page.keyboard.press("Escape")
            wait_idle(page)
    item.click()
    wait_idle(page)
    assert box.input_value() == option


def add(page, kind: str, where: str, **numbers: int) -> None:
    """The builder's Add row: the layer's kind, its numbers (each confirmed with Enter), where it goes, Add."""
    choose(page, "Add a layer", kind)
    still_building(page)
    for name, value in numbers.items():
        field = page.get_by_label(name, exact=True)
        field.fill(str(value))
        field.press("Enter")
        wait_idle(page)
    choose(page, "Where", where)
    page.get_by_role("button", name=re.compile(r"\bAdd$")).click()


def build(page) -> None:
    """Blank, then every layer through the Add row (one ReLU put in last and moved up), checked after each change."""
    page.get_by_role("button", name="Start blank").click()
    shows(page, [("flatten", "784", "0"), ("linear 10", "10", "7850")], 7_850)
    add(page, "Convolution", "first")  # its inputs hold 8 channels of 3×3
    conv = ("conv 8 @ 3×3", "8 × 26 × 26", "80")
    shows(page, [conv, ("flatten", "5408", "0"), ("linear 10", "10", "54090")], 54_170)
    add(page, "ReLU", "after #1")
    shows(page, [conv, ("ReLU", "8 × 26 × 26", "0"), ("flatten", "5408", "0"), ("linear 10", "10", "54090")], 54_170)
    add(page, "Max pooling", "after #2")
    head = [conv, ("ReLU", "8 × 26 × 26", "0"), ("max pool 2×2", "8 × 13 × 13", "0"), ("flatten", "1352", "0")]
    shows(page, [*head, ("linear 10", "10", "13530")], 13_610)
    add(page, "Linear (fully connected)", "after #4", Width=32)
    hidden = ("linear 32", "32", "43296")
    shows(page, [*head, hidden, ("linear 10", "10", "330")], 43_706)

    add(page, "ReLU", "after #6")  # at the end: the network no longer gives ten scores…
    alert = page.get_by_text(re.compile("^Not trainable yet:"))
    alert.wait_for(timeout=30_000)
    wait_idle(page)
    assert "linear 10" in alert.inner_text()
    just_added = page.get_by_role("combobox", name="Layer (its # in the table)", exact=True).input_value()
    assert just_added == "#7"
    page.get_by_role("button", name=re.compile(r"\bUp$")).click()  # …one step up, and it does
    shows(page, [*head, hidden, ("ReLU", "32", "0"), ("linear 10", "10", "330")], 43_706)
    page.get_by_text("Edit as text").click()
    text = page.get_by_role("textbox", name="Layers, one after another (commas or new lines)", exact=True)
    text.wait_for(timeout=10_000)
    assert text.input_value() == BUILT
    assert page.get_by_role("combobox", name="Architecture", exact=True).input_value() == \
        "Your own network"


def type_into(page, label: str, value: str) -> None:
    """Type into a field and press Enter (taken now, not in a race with the next click); again when a rerun that
    was still landing redrew the field empty (Share's message goes at the next rerun, and the fields below move up)."""
    field = page.get_by_label(label, exact=True)
    for _ in range(3):
        field.fill(value)
        field.press("Enter")
        wait_idle(page)
        time.sleep(0.3)
        if field.input_value() == value:
            return
    assert field.input_value() == value, label


def top(page, words: str) -> None:
    """Scroll so that the element with these words is at the top of the window (for a screenshot)."""
    page.get_by_text(words, exact=True).first.evaluate("e => e.scrollIntoView({block: 'start'})")
    time.sleep(0.5)


def test_a_network_built_in_the_browser_trains_draws_opens_inside_and_exports_as_pytorch_reads_it(
        server, browser, tmp_path):
    url, runs = server
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    try:
        open_page(page, url, "train", "Train")
        choose(page, "Architecture", "Your own network")
        page.get_by_role("button", name="Start blank").wait_for(timeout=30_000)
        build(page)
        top(page, "Your network")
        page.screenshot(path=str(SHOTS / "builder-desktop.png"))

        page.get_by_role("button", name=re.compile(r"\bShare$")).click()  # the same network on a phone, by its link
        page.wait_for_url(re.compile(r"layers="), timeout=30_000)
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        try:
            small = phone.new_page()
            small.goto(page.url)
            small.get_by_role("button", name="Start blank").wait_for(timeout=30_000)
            wait_idle(small)
            assert small.get_by_text("43,706 parameters · 10 outputs").count() == 1
            top(small, "Your network")
            small.screenshot(path=str(SHOTS / "builder-phone-table.png"))
            top(small, "43,706 parameters · 10 outputs")
            small.screenshot(path=str(SHOTS / "builder-phone-controls.png"))
        finally:
            phone.close()

        type_into(page, "Epochs", "1")
        type_into(page, "Name (optional)", "my 3-layer ReLU net")
        page.get_by_role("button", name="Start training").click()
        page.locator("[data-testid='stProgress']").wait_for(timeout=90_000)
        page.get_by_text("Updated the best model!").first.wait_for(timeout=120_000)
        assert page.locator(".js-plotly-plot").count() >= 2  # the loss and accuracy charts, live
        page.screenshot(path=str(SHOTS / "builder-training.png"))
        page.get_by_text("Finished after").first.wait_for(timeout=180_000)
        time.sleep(2)  # the run's end redraws the whole page once: let that land
        wait_idle(page)
        (run,) = list_runs(runs)
        model, meta = load_checkpoint(run / CHECKPOINT)
        assert meta["model"] == "built" and meta["config"]["layers"] == BUILT and meta["config"]["epochs"] == 1

        page.get_by_role("button", name="Open in Draw").click()
        page.get_by_role("heading", name="Draw a digit").wait_for(timeout=60_000)
        wait_idle(page)
        assert "my 3-layer ReLU net" in page.get_by_role("combobox", name="Checkpoint").input_value()
        assert draw(page, "7") == "7"
        page.screenshot(path=str(SHOTS / "builder-draw.png"))

        page.get_by_role("link", name="Inside").click()
        page.get_by_role("heading", name="How it learned").wait_for(timeout=90_000)
        wait_idle(page, timeout=90_000)
        assert page.locator("[data-testid='stException']").count() == 0
        layers = [a.layer for a in trace(model, np.zeros((28, 28), np.float32)).layers]
        assert layers == ["conv 1", "pool 1", "flatten", "linear 1", "linear 2"]
        names = [s.inner_text().strip() for s in page.locator("[data-testid='stMarkdownContainer'] p > strong").all()]
        assert [n for n in names if n in layers][:len(layers)] == layers, names  # a row of maps for every layer
        assert page.locator(".inside-digit").inner_text().strip() == "7"
        page.screenshot(path=str(SHOTS / "builder-inside.png"))

        page.get_by_role("link", name="Model").click()
        page.get_by_role("heading", name="Model").wait_for(timeout=60_000)
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name="ONNX: runs without PyTorch").click()
        assert download.value.suggested_filename == f"run-{run.name}.onnx"
        download.value.save_as(tmp_path / "built.onnx")
    finally:
        context.close()

    test = load_splits(10_000, 0).test
    with torch.inference_mode():
        expected = torch.softmax(model(normalize(test.images)).double() / model.temperature, 1).numpy()
    session = ort.InferenceSession(str(tmp_path / "built.onnx"), providers=["CPUExecutionProvider"])
    _, probabilities = session.run(None, {"pixels": (test.images.numpy().astype(np.float32) / 255)[:, None]})
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert (probabilities.argmax(1) == test.labels.numpy()).mean() > 0.95  # one epoch of this network: 96.8% here
