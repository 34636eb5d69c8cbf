"""The CUDA path. Marked `gpu`: skipped where there is no CUDA device, run with `pytest -m gpu` where there is."""

import pytest
import torch

from digits import TrainConfig, fit, load_checkpoint
from digits.evaluate import accuracy

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def test_training_on_cuda_learns_and_its_checkpoint_reads_the_same_on_the_cpu(tiny_splits, tmp_path):
    config = TrainConfig(model="lenet5", epochs=6, batch_size=32, lr=3e-3, eval_every=40, device="cuda")
    events = list(fit(config, tiny_splits, checkpoint=tmp_path / "best.pt"))
    started, done = events[0], events[-1]
    assert started.device == "cuda" and done.kind == "finished" and done.best_val_acc >= 0.95
    assert torch.backends.cudnn.benchmark and torch.backends.cuda.matmul.allow_tf32  # digits.device.prepare
    model, meta = load_checkpoint(tmp_path / "best.pt")  # on the CPU: the reference
    assert accuracy(model, tiny_splits.test) == pytest.approx(done.test_acc, abs=2 / len(tiny_splits.test))
