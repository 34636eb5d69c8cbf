"""How a model reads a drawing: `classify` for one, `read_inputs` for many 28×28 inputs at once, the same way.

A drawing becomes its 28×28 input (digits.preprocess.to_mnist). The network reads that input as it is and
moved by one pixel each way (VIEWS: test-time augmentation, issue #15), the nine logits are averaged, divided
by the checkpoint's temperature (digits.calibration) and turned into probabilities; the checkpoint's
not-a-digit detector (digits.detector) reads the unmoved view, the one it was fitted on, from the same
forward pass. One reader serves the Draw page, the Room page, the robustness grid and the CLI's figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import normalize, standardize
from .detector import features
from .device import model_device
from .models import eval_mode, inference_batch, probabilities
from .preprocess import to_mnist

# Below this top probability the app says the model is unsure. With a calibrated checkpoint (digits.calibration)
# the probability is the model's expected accuracy on MNIST-like digits: "unsure" is "wrong 4 times in 10 or more".
LOW_CONFIDENCE = 0.6
# The views of a 28×28 input that are read and averaged: (down, right) px. The first is the input itself, the
# view the not-a-digit detector reads; the others let a blotchy or oddly centred drawing be read from several places.
VIEWS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))
READ_BATCH = 250       # inputs read at once by read_inputs (× 9 views through the network: bounded memory)


@dataclass(frozen=True)
class Prediction:
    """classify's answer for one drawing."""
    digit: int | None      # the digit read (the argmax, even when not_digit); None: there was no ink to read
    probs: np.ndarray      # (10,), sums to 1 (uniform when digit is None):
                           # softmax(mean logits / the model's temperature)
    input: np.ndarray      # (28, 28) float32 in [0, 1]: exactly what the network saw (its unmoved view)
    not_digit: bool = False  # the checkpoint's not-a-digit detector (digits.detector) says this is not a digit;
                             # `digit` is then what the network would have guessed. Always False without a detector.

    @property
    def confidence(self) -> float:
        return float(self.probs.max()) if self.digit is not None else 0.0

    @property
    def unsure(self) -> bool:
        """A digit was read, but with a top probability under LOW_CONFIDENCE."""
        return self.digit is not None and self.confidence < LOW_CONFIDENCE

    @property
    def flagged(self) -> bool:
        """Not to be taken as a digit: no ink, unsure, or not a digit (what digits.heldout counts)."""
        return self.digit is None or self.unsure or self.not_digit


@dataclass(frozen=True)
class Answers:
    """classify's answers for many inputs at once (read_inputs): Prediction's fields, batched."""
    probs: torch.Tensor      # (N, 10) float64 on the CPU: the probabilities, as Prediction.probs
    not_digit: torch.Tensor  # (N,) boolean: the not-a-digit detector's verdict (all False without one)
    score: torch.Tensor      # (N,) float64: the detector's score, its verdict being score > threshold (-inf without
                             # one): what digits.detector_curve moves the threshold over

    @property
    def digit(self) -> torch.Tensor:
        """(N,) the digit read (the argmax, even where flagged)."""
        return self.probs.argmax(1)

    @property
    def unsure(self) -> torch.Tensor:
        """(N,) boolean: top probability under LOW_CONFIDENCE (or not a number)."""
        return ~(self.probs.max(1).values >= LOW_CONFIDENCE)

    @property
    def flagged(self) -> torch.Tensor:
        """(N,) boolean: unsure or not a digit (Prediction.flagged; these inputs all have ink)."""
        return self.unsure | self.not_digit


def _network_input(model: nn.Module, x: np.ndarray) -> torch.Tensor:
    """A 28×28 input in [0, 1] as the network takes it: standardised, (1, 1, 28, 28), on the model's device."""
    return standardize(torch.from_numpy(x)).view(1, 1, 28, 28).to(model_device(model))


def views(inputs: torch.Tensor) -> torch.Tensor:
    """Standardised (N, 1, 28, 28) inputs moved by every offset of VIEWS (blank paper coming in at the edge):
    (len(VIEWS) × N, 1, 28, 28), view by view, the unmoved ones first."""
    paper = float(standardize(torch.zeros(())))
    padded = F.pad(inputs, (1, 1, 1, 1), value=paper)
    return torch.cat([padded[:, :, 1 - dy:29 - dy, 1 - dx:29 - dx] for dy, dx in VIEWS])


def read_inputs(model: nn.Module, inputs: torch.Tensor) -> Answers:
    """classify's answers for standardised (N, 1, 28, 28) inputs, on the model's device, that are already what
    to_mnist makes (MNIST's own images are), READ_BATCH at a time: each input's logits averaged over its VIEWS,
    divided by the model's temperature, softmax; not_digit from the detector on the unmoved view, VIEWS[0]."""
    detector = getattr(model, "detector", None)
    # no inputs: no answers
    probs, score = [torch.zeros(0, 10, dtype=torch.float64)], [torch.zeros(0, dtype=torch.float64)]
    with torch.inference_mode(), eval_mode(model):
        for chunk in inputs.split(max(1, inference_batch(model, READ_BATCH * len(VIEWS)) // len(VIEWS))):
            n = len(chunk)
            logits, f = features(model, views(chunk))  # logits float64 on the CPU: (len(VIEWS) × n, 10)
            probs.append(probabilities(model, logits.view(len(VIEWS), n, logits.shape[-1]).mean(0), dim=1))
            score.append(detector.score(f[:n]) if detector is not None  # the unmoved view
                         else torch.full((n,), -math.inf, dtype=torch.float64))
    score = torch.cat(score)
    return Answers(torch.cat(probs), score > (detector.threshold if detector is not None else math.inf), score)


def answers_of(model: nn.Module, images: torch.Tensor) -> Answers:
    """classify's answers for uint8 (N, 28, 28) images that are already what to_mnist makes (MNIST's own, the
    room's stored 28×28s), standardised and moved to the model's device here."""
    return read_inputs(model, normalize(images).to(model_device(model)))


def classify(model: nn.Module, image) -> Prediction:
    """Read one drawing: canvas RGBA (H×W×4 uint8), RGB or grey array. Its 28×28 input (to_mnist) and that input
    moved by one pixel each way (VIEWS) are read in one batch, the logits averaged, divided by the model's
    temperature (its checkpoint's calibration; 1 without one), then softmax; a model with a not-a-digit detector
    (`model.detector`, from its checkpoint) also says, from the same forward pass, whether it looks like a digit."""
    x = to_mnist(image)
    if x is None:
        return Prediction(None, np.full(10, 0.1), np.zeros((28, 28), np.float32))
    answers = read_inputs(model, _network_input(model, x))
    probs = answers.probs[0].numpy()
    if not np.isfinite(probs).all():  # weights that overflow: say so rather than show a "nan% sure" digit
        raise ValueError("the model's output is not a number for this drawing: its weights are broken")
    return Prediction(int(probs.argmax()), probs / probs.sum(), x, bool(answers.not_digit[0]))


def drawing_logits(model: nn.Module, image) -> tuple[np.ndarray, torch.Tensor] | None:
    """(the 28×28 input, the model's (1, 10) float32 logits of its unmoved view) for a drawing, or None without
    ink: one pass, for the pages that show what the network does with one input (Losses)."""
    x = to_mnist(image)
    if x is None:
        return None
    with torch.inference_mode(), eval_mode(model):
        return x, model(_network_input(model, x)).float().cpu()
