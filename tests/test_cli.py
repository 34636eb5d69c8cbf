import re
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from digits import build_model, save_checkpoint
from digits.config import RECIPES
from tests.helpers import cli, draw_digit

ROOT = Path(__file__).resolve().parents[1]


def test_bad_training_settings_are_refused_before_any_work():
    done = cli("train", "--lr", "0", "--batch-size", "99999")
    assert done.returncode == 2
    assert "learning rate must be above 0" in done.stderr and "batch size must be" in done.stderr
    assert "Traceback" not in done.stderr


def test_train_help_lists_every_setting_and_the_recipes():
    done = cli("train", "--help")
    assert done.returncode == 0, done.stderr
    assert "15% help choose the best model" in " ".join(done.stdout.split())  # a % in a help text stays a %
    choices = re.search(r"--recipe \{([a-z,]+)\}", done.stdout).group(1)
    assert set(choices.split(",")) == set(RECIPES) and "fast" in choices


def test_predict_reads_an_image_file(tmp_path):
    torch.manual_seed(0)
    ckpt = save_checkpoint(tmp_path / "m.pt", "cnn", build_model("cnn"))
    Image.fromarray(draw_digit("ring")).save(tmp_path / "ring.png")
    done = cli("predict", tmp_path / "ring.png", "--checkpoint", ckpt)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[0] in list("0123456789")
    probs = [float(line.split(":")[1]) for line in lines[1:]]
    assert len(probs) == 10 and abs(sum(probs) - 1) < 1e-3


def test_predict_on_a_blank_image_says_so(tmp_path):
    ckpt = save_checkpoint(tmp_path / "m.pt", "cnn", build_model("cnn"))
    Image.fromarray(np.zeros((50, 50), np.uint8)).save(tmp_path / "blank.png")
    done = cli("predict", tmp_path / "blank.png", "--checkpoint", ckpt)
    assert done.returncode == 1 and "No ink" in done.stdout


def test_corrupt_checkpoint_is_a_message_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 truncated")
    done = cli("evaluate", bad)
    assert done.returncode == 2 and "bad.pt: not a loadable checkpoint" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unwritable_run_folder_is_a_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = cli("train", "--epochs", "1", "--run-dir", blocker / "run")
    assert done.returncode == 2 and "cannot write the run folder" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_network_file_that_does_not_work_out_is_one_line(tmp_path):
    (tmp_path / "net.json").write_text('[{"layer": "conv", "channels": 1000000000, "kernel": 3}]')
    (tmp_path / "net.txt").write_text("conv 8 3\nrelu\nlinear 10")
    for name, words in [("net.json", "net.json: layer 1 (conv): channels must be a whole number from 1 to 512"),
                        ("net.txt", "net.txt: layer 3 (linear 10) needs a flat input"),
                        ("missing", "cannot read")]:
        done = cli("train", "--arch", tmp_path / name, "--epochs", "1")
        assert done.returncode == 2 and words in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_predict_names_a_clothes_checkpoints_classes(tmp_path):
    from digits import TrainConfig

    path = save_checkpoint(tmp_path / "clothes.pt", "cnn", build_model("cnn"),
                           config=TrainConfig(model="cnn", dataset="fashion").to_dict())
    Image.fromarray(draw_digit()).save(tmp_path / "x.png")
    done = cli("predict", tmp_path / "x.png", "--checkpoint", path)
    assert done.returncode == 0, done.stderr
    assert "  Ankle boot: " in done.stdout and "  9: " not in done.stdout
    done = cli("detector", path)
    assert done.returncode == 2 and "the not-a-digit detector is for digit models" in done.stderr


def test_the_curve_of_a_checkpoint_without_a_detector_is_refused_in_one_line(tmp_path):
    path = save_checkpoint(tmp_path / "plain.pt", "cnn", build_model("cnn"))
    done = cli("detector", path, "--curve")
    assert done.returncode == 2 and "has no not-a-digit detector" in done.stderr and "--write" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_detector_of_a_network_too_wide_for_a_checkpoint_is_refused_in_one_line(tmp_path):
    from digits import TrainConfig

    layers = "flatten, linear 100, relu, linear 1500, relu, linear 10"
    path = save_checkpoint(tmp_path / "wide.pt", "built", build_model("built", layers),
                           config=TrainConfig(model="built", layers=layers).to_dict())
    done = cli("detector", path)
    assert done.returncode == 2 and "1,602 detector features" in done.stderr and "at most 100,000" in done.stderr
