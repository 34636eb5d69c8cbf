"""digits.export: a checkpoint as ONNX (ONNX Runtime gives PyTorch's probabilities) and as a plain state_dict with
its description; the CLI verb; the README's five lines that use the file without digits or PyTorch."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from digits import build_model, load_checkpoint
from digits.checkpoint import amend_checkpoint
from digits.cli import main
from digits.data import normalize
from digits.export import export
from digits.handdrawn import drawn_digits
from digits.preprocess import to_mnist

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [ROOT / "checkpoints" / "lenet5.pt", ROOT / "checkpoints" / "cnn.pt"]


def pixels(n_per_digit: int = 20) -> np.ndarray:
    """Drawn digits made into what the network reads: float32 (N, 1, 28, 28) in [0, 1]."""
    return np.stack([to_mnist(d.image) for d in drawn_digits(n_per_digit, seed=4)])[:, None].astype(np.float32)


def pytorch_probabilities(model, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        logits = model(normalize((torch.from_numpy(x[:, 0]) * 255).round().to(torch.uint8))).double()
    return torch.softmax(logits / model.temperature, dim=1).numpy()


def onnx_probabilities(path: Path, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["pixels"]
    assert [o.name for o in session.get_outputs()] == ["logits", "probabilities"]
    return tuple(session.run(None, {"pixels": x}))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_onnx_runtime_gives_pytorchs_probabilities(path, tmp_path):
    model, meta = load_checkpoint(path)
    x = np.round(pixels() * 255) / 255  # the 8-bit pixels a stored drawing has, so both read the same numbers
    export(model, meta, onnx=tmp_path / "m.onnx")
    logits, probs = onnx_probabilities(tmp_path / "m.onnx", x.astype(np.float32))
    np.testing.assert_allclose(probs, pytorch_probabilities(model, x.astype(np.float32)), atol=1e-5)
    assert (logits.argmax(1) == probs.argmax(1)).all() and len(probs) == 200  # any batch size


def test_the_temperature_is_folded_in(tmp_path):
    torch.manual_seed(0)
    from digits import save_checkpoint

    save_checkpoint(tmp_path / "t.pt", "cnn", build_model("cnn"))
    amend_checkpoint(tmp_path / "t.pt", {"temperature": 2.5}, {})
    model, meta = load_checkpoint(tmp_path / "t.pt")
    export(model, meta, onnx=tmp_path / "t.onnx")
    logits, probs = onnx_probabilities(tmp_path / "t.onnx", pixels(2))
    np.testing.assert_allclose(probs, torch.softmax(torch.from_numpy(logits).double() / 2.5, 1).numpy(), atol=1e-6)


def test_the_weights_are_a_plain_state_dict_with_their_description(tmp_path):
    model, meta = load_checkpoint(SHIPPED[0])
    written = export(model, meta, state_dict=tmp_path / "w.pt")
    assert written == [tmp_path / "w.pt", tmp_path / "w.json"]
    weights = torch.load(tmp_path / "w.pt", weights_only=True)
    rebuilt = build_model(json.loads((tmp_path / "w.json").read_text())["architecture"])
    rebuilt.load_state_dict(weights)
    x = torch.rand(8, 1, 28, 28)
    with torch.inference_mode():
        assert torch.equal(rebuilt.eval()(x), model(x))
    described = json.loads((tmp_path / "w.json").read_text())
    assert described["temperature"] == model.temperature and "standardised" in described["input"]


def test_the_cli_writes_what_is_asked_and_says_what_is_missing_in_one_line(tmp_path, capsys):
    assert main(["export", str(SHIPPED[1]), "--onnx", str(tmp_path / "c.onnx"),
                 "--state-dict", str(tmp_path / "c.pt")]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"c.onnx", "c.pt", "c.json"}
    capsys.readouterr()
    assert main(["export", str(SHIPPED[1])]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    assert main(["export", str(tmp_path / "bad.pt"), "--onnx", str(tmp_path / "bad.onnx")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1 and not (tmp_path / "bad.onnx").exists()


def test_the_readmes_five_lines_run_without_digits_or_pytorch(tmp_path):
    """The README's snippet, as written there, in a fresh interpreter: it reads a drawing's PNG with the exported
    file and prints the digit; neither digits nor torch is imported."""
    snippet = re.search(r"```python\n(import onnxruntime.*?)```", (ROOT / "README.md").read_text(), re.S)[1]
    assert len(snippet.strip().splitlines()) <= 5
    model, meta = load_checkpoint(SHIPPED[0])
    export(model, meta, onnx=tmp_path / "lenet5.onnx")
    from PIL import Image

    seven = next(d for d in drawn_digits(1, seed=2) if d.digit == 7)
    Image.fromarray((to_mnist(seven.image) * 255).astype(np.uint8)).save(tmp_path / "digit.png")
    check = "import sys; assert 'torch' not in sys.modules and 'digits' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", snippet + "\n" + check], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "7"
