"""The pictures' rules that a learner reads from: probabilities never shown as certain, a guess the page
does not give greyed, the accuracy chart keeping its whole climb, sparse calibration bins not joined."""

import numpy as np
import pytest

from digits.calibration import Bin, Calibration
from digits.summary import RunSummary
from webapp.pictures import images
from webapp.pictures.model import SPARSE, reliability_chart
from webapp.pictures.numbers import percent
from webapp.pictures.train import accuracy_chart


@pytest.mark.parametrize("p, decimals, words", [
    (1.0, 1, "> 99.9%"), (0.99996, 1, "> 99.9%"), (0.9994, 1, "99.9%"), (0.5, 1, "50.0%"), (0.0, 1, "0.0%"),
    (0.0004, 1, "< 0.1%"), (0.996, 0, "> 99%"), (0.994, 0, "99%"), (0.004, 0, "< 1%"), (0.006, 0, "1%"),
])
def test_a_probability_never_reads_as_certain(p, decimals, words):
    assert percent(p, decimals) == words


def test_the_bars_of_a_flagged_answer_are_grey_and_none_says_100_percent():
    probs = np.array([0.0, 0, 0, 0, 0, 0, 0, 1.0, 0, 0])
    answer, guess = images.probability_bars(probs), images.probability_bars(probs, greyed=True)
    assert "#31a354" in answer and "#31a354" not in guess and "#bdbdbd" in guess
    assert ">100%<" not in answer and ">> 99%<" in answer


def run(val_acc):
    s = RunSummary()
    s.eval_x, s.val_acc = list(range(50, 50 * len(val_acc) + 1, 50)), val_acc
    s.train_acc = val_acc
    return s


def test_the_accuracy_axis_keeps_the_climb_from_10_percent_after_the_run_and_zooms_on_request():
    s = run([0.11, 0.9, 0.97, 0.985, 0.99])
    assert accuracy_chart(s).layout.yaxis.range[0] == 0.0  # the early points stay in view
    assert accuracy_chart(s).layout.yaxis.title.text == "accuracy"
    late = run([0.97, 0.98, 0.985, 0.99])
    assert accuracy_chart(late, zoom=True).layout.yaxis.range[0] > 0.9


def test_sparse_calibration_bins_are_points_with_their_count_not_part_of_the_line():
    bins = [Bin(0.3, 0.4, 0.35, 1.0, 2), Bin(0.9, 1.0, 0.98, 0.97, 500), Bin(0.8, 0.9, 0.85, 0.84, SPARSE)]
    c = Calibration(1.0, 502, 0.01, 0.01, 0.1, 0.1, bins, bins)
    line, points = [t for t in reliability_chart(c).data if t.name != "perfectly calibrated"]
    assert list(line.x) == [0.98, 0.85] and line.mode == "lines+markers"
    assert list(points.x) == [0.35] and list(points.text) == ["2"] and "lines" not in points.mode


def test_the_robustness_grid_colours_mean_one_thing_each():
    from types import SimpleNamespace

    from webapp.pictures.inside import CHANGED, SAME, UNSURE, sweep_table

    readings = SimpleNamespace(digit=np.array([[2, 2, 7]]), confidence=np.array([[0.999, 0.56, 0.9]]),
                               inputs=np.zeros((1, 3, 28, 28), np.float32))
    cells = sweep_table(readings, (0,), (-1, 0, 1), "", "px right", expected=2, low=0.6).split("<td")[1:]
    assert f"color:{SAME}'>2<" in cells[0] and f"solid {CHANGED}" not in cells[0] and "> 99%" in cells[0]
    assert f"color:{UNSURE}'>2<" in cells[1]  # right, but under the Draw page's "not sure"
    assert f"color:{CHANGED}'>7<" in cells[2] and f"solid {CHANGED}" in cells[2]


def test_a_recorded_command_runs_where_the_reader_is():
    from webapp.pictures.model import portable_command

    made = "python -m digits train --model lenet5 --epochs 40 --augment --checkpoint /tmp/scratch4/lenet5.pt"
    assert portable_command(made).endswith("--augment --checkpoint checkpoints/lenet5.pt")
    assert (portable_command("python -m digits train --run-dir runs/mine")
            == "python -m digits train --run-dir runs/mine")
    assert portable_command("python -m digits 'unclosed") == "python -m digits 'unclosed"


def test_a_drawing_labelled_not_a_digit_shows_the_checkpoints_guess_not_a_reading():
    from digits.drawings import NOT_A_DIGIT, Drawing
    from webapp.pictures.room import gallery_html

    def drawing(i, label):
        return Drawing(i, 0.0, "s", label, np.zeros((28, 28), np.uint8), "lenet5.pt", None, None)

    shown = gallery_html([drawing(1, NOT_A_DIGIT), drawing(2, 3)], {1: 4, 2: 7})
    assert "would guess 4" in shown and "read as 4" not in shown
    assert "✗ read as 7" in shown


def test_a_runs_figures_are_one_wrapping_row_with_every_text_escaped():
    from webapp.pictures.train import figures_row

    row = figures_row([("Device", "CPU", "<img src=x onerror=alert(1)>"), ("Test accuracy", "98.46%", "")])
    assert "flex-wrap:wrap" in row and row.count("class='figure'") == 2
    assert "<img" not in row and "&lt;img" in row


def test_a_run_the_app_started_shows_a_command_in_this_projects_folders():
    from digits.cli_args import train_command
    from digits.config import TrainConfig
    from webapp.pictures.model import portable_command, portable_path

    assert portable_path("/tmp/tour/runs/20261204-071534-lenet5/best.pt", "checkpoints") == \
        "runs/20261204-071534-lenet5/best.pt"
    assert portable_command("python -m digits train --config /srv/x/runs/1/config.json --run-dir /srv/x/runs/1") == \
        "python -m digits train --config runs/1/config.json --run-dir runs/1"
    assert train_command(TrainConfig(epochs=1, augment=True).to_dict()) == "python -m digits train --epochs 1 --augment"
    assert "--momentum" not in train_command(TrainConfig(optimizer="adam", momentum=0.5).to_dict())  # it did not apply
