"""digits.robustness: the shift, rotation and scale grid, read as classify reads a drawing."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from digits import classify, to_mnist
from digits.robustness import ANGLES, SCALES, SHIFTS, robustness

# ---- robustness ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["lenet5", "cnn"])
def test_robustness_reads_the_unchanged_drawing_as_classify_does(shipped, drawing, name):
    model = shipped[name]
    r = robustness(model, drawing)
    p = classify(model, drawing)
    centre = [(r.shift, (SHIFTS.index(0), SHIFTS.index(0))), (r.rotation, (0, ANGLES.index(0))),
              (r.scale, (0, SCALES.index(1.0)))]
    for sweep, cell in centre:
        assert sweep.centred.digit[cell] == p.digit
        assert sweep.centred.confidence[cell] == pytest.approx(p.probs.max(), abs=1e-5)
        np.testing.assert_allclose(sweep.centred.inputs[cell], p.input, atol=1e-6)
    for sweep, rows, columns in [(r.shift, SHIFTS, SHIFTS), (r.rotation, (0,), ANGLES), (r.scale, (0,), SCALES)]:
        assert (sweep.rows, sweep.columns) == (tuple(rows), tuple(columns))
        for readings in (sweep.centred, sweep.plain):
            assert readings.digit.shape == readings.confidence.shape == (len(rows), len(columns))
            assert readings.inputs.shape == (len(rows), len(columns), 28, 28)
            assert ((readings.digit >= 0) & (readings.digit <= 9)).all()
            assert ((readings.confidence > 0.1) & (readings.confidence <= 1)).all()


def test_robustness_moves_the_ink_as_pillow_does(shipped):
    """Each version, read plainly (the canvas resized to 28×28), is the canvas shifted with numpy, or turned
    and scaled about its centre of mass by Pillow, then resized; read centred, it is to_mnist of that."""
    ink = np.zeros((280, 280), np.uint8)
    ink[100:180, 60:140] = 255   # a heavy square left of the middle…
    ink[130:150, 140:220] = 255  # …and an arm to its right
    canvas = np.dstack([ink, ink, ink, np.full_like(ink, 255)])
    r = robustness(shipped["cnn"], canvas, shifts=(0, 4), angles=(0, 30, -15), scales=(0.5, 1.25))
    x = ink.astype(np.float32) / 255
    cy, cx = [float((x.sum(axis) * np.arange(280)).sum() / x.sum()) for axis in (1, 0)]
    paper = Image.fromarray(x, mode="F")
    centre = (cx + 0.5, cy + 0.5)  # Pillow's coordinates: pixel (0, 0) spans 0..1
    # 4 px of 28: 40 of 280
    expected = [(r.shift, (1, 0), np.roll(x, 40, axis=0)), (r.shift, (0, 1), np.roll(x, 40, axis=1))]
    for j, angle in enumerate(r.rotation.columns):
        expected.append((r.rotation, (0, j), paper.rotate(angle, Image.BILINEAR, center=centre)))  # anticlockwise
    for j, scale in enumerate(r.scale.columns):
        about = (1 / scale, 0, centre[0] * (1 - 1 / scale), 0, 1 / scale, centre[1] * (1 - 1 / scale))  # output → input
        expected.append((r.scale, (0, j), paper.transform(paper.size, Image.AFFINE, about, Image.BILINEAR)))
    for sweep, cell, moved in expected:
        moved = np.array(moved, np.float32)
        assert moved.sum() > 1000, (sweep.name, cell)
        resized = F.interpolate(torch.from_numpy(moved)[None, None], size=(28, 28), mode="bilinear",
                                antialias=True)[0, 0]
        np.testing.assert_allclose(sweep.plain.inputs[cell], resized.clamp(0, 1).numpy(), atol=1e-5,
                                   err_msg=f"{sweep.name} {cell}")
        np.testing.assert_allclose(sweep.centred.inputs[cell], to_mnist(moved), atol=1e-4,
                                   err_msg=f"{sweep.name} {cell}")


def test_robustness_of_a_blank_drawing_is_none(shipped):
    assert robustness(shipped["cnn"], np.zeros((280, 280, 4), np.uint8)) is None                   # transparent
    assert robustness(shipped["cnn"], np.dstack([np.zeros((280, 280, 3), np.uint8),
                                                 np.full((280, 280), 255, np.uint8)])) is None      # black paper
