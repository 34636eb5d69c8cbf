"""The Model page's ONNX download in a real Chromium against a real server: the file the browser saves runs in
ONNX Runtime to PyTorch's probabilities on MNIST's 10,000 test images. Slow: `pytest -m slow
tests/test_browser_export.py`."""

import numpy as np
import onnxruntime as ort
import pytest
import torch

from digits import load_checkpoint
from digits.data import load_splits, normalize
from testkit.served import ROOT, open_page

pytestmark = pytest.mark.slow


def test_the_onnx_file_a_browser_downloads_reads_the_test_set_as_pytorch_does(server, browser, tmp_path):
    url, _ = server
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    open_page(page, url, "model", "Model")
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="ONNX: runs without PyTorch").click()
    assert download.value.suggested_filename == "lenet5.onnx"  # the checkpoint the sidebar chose first
    download.value.save_as(tmp_path / "lenet5.onnx")
    context.close()

    model = load_checkpoint(ROOT / "checkpoints" / "lenet5.pt")[0]
    test = load_splits(10_000, 0).test
    with torch.inference_mode():
        expected = torch.softmax(model(normalize(test.images)).double() / model.temperature, 1).numpy()
    session = ort.InferenceSession(str(tmp_path / "lenet5.onnx"), providers=["CPUExecutionProvider"])
    pixels = (test.images.numpy().astype(np.float32) / 255)[:, None]
    _, probabilities = session.run(None, {"pixels": pixels})
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    assert (probabilities.argmax(1) == test.labels.numpy()).mean() > 0.99
