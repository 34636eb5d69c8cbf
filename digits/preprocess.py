"""From a drawing to what the network sees, the way MNIST itself was made, and `classify`.

The MNIST page: digits were "size normalized to fit in a 20x20 pixel box while preserving their
aspect ratio", anti-aliased to grey levels, then "centered in a 28x28 image by computing the
center of mass of the pixels". We follow that recipe; in addition the stroke width is brought
into MNIST's range, so that a tiny digit drawn with a fat brush does not become a blob.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import normalize, standardize
from .detector import features
from .device import model_device
from .models import eval_mode, probabilities

MAX_SIDE = 4096        # px; larger inputs are refused rather than slowly resampled
INK_CONTRAST = 0.15    # an image whose strongest ink is fainter than this counts as empty
WORK_SIDE = 160        # px; crops are shrunk to at most this before morphology (bounded cost)
BOX = 20               # px; the MNIST box the longer side is scaled to
STROKE_RANGE = (1.8, 3.6)  # px in the 20-px box: MNIST's stroke widths; outside it we erode or dilate
# Below this top probability the app says the model is unsure. With a calibrated checkpoint (digits.calibration)
# the probability is the model's expected accuracy on MNIST-like digits: "unsure" is "wrong 4 times in 10 or more".
LOW_CONFIDENCE = 0.6
NOISE = 0.2            # ink fainter than this share of the strongest is paper grain or a smudge, not a stroke
SPECK = 4              # an ink pixel with fewer than this in its 3×3 block is a speck of dust (1–3 pixels)
# classify reads the 28×28 input as it is and moved by one pixel each way (test-time augmentation, issue #15)
# and averages the nine logits: a blotchy or oddly centred drawing is read from several places, not one.
SHIFTS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))  # (down, right) px; the
# first is the input itself, the view the not-a-digit detector reads (read_inputs)
READ_BATCH = 250       # inputs read at once by read_inputs (× 9 views through the network: bounded memory)


@dataclass(frozen=True)
class Prediction:
    digit: int | None      # the digit read (the argmax, even when not_digit); None: there was no ink to read
    probs: np.ndarray      # (10,), sums to 1 (uniform when digit is None): softmax(logits / the model's temperature)
    input: np.ndarray      # (28, 28) float32 in [0, 1]: exactly what the network saw
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


def _checked(image) -> tuple[np.ndarray, float]:
    """(H, W, C) array and its full-scale value (255 for integers, 1 for floats), or a clear ValueError."""
    a = np.asarray(image)
    if a.dtype == bool:  # True is full ink
        a = a.astype(np.uint8) * 255
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"image must hold numbers, got dtype {a.dtype}")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ValueError(f"image must be H×W, H×W×3 or H×W×4, got shape {a.shape}")
    h, w = a.shape[:2]
    if h == 0 or w == 0:
        raise ValueError("image is empty (a side of length 0)")
    if max(h, w) > MAX_SIDE:
        raise ValueError(f"image is {h}×{w}; the largest side accepted is {MAX_SIDE} px")
    if a.dtype == np.uint8:
        return a, 255.0
    if np.issubdtype(a.dtype, np.integer):
        if a.min() < 0 or a.max() > 255:
            raise ValueError("integer images must hold values 0..255")
        return a, 255.0
    if not np.isfinite(a).all():
        raise ValueError("image contains NaN or infinite values")
    if a.min() < 0 or a.max() > 1:
        raise ValueError("float images must hold values in [0, 1]")
    return a, 1.0


def _border(x: np.ndarray) -> float:
    return float(np.median(np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])))


def _grey(a: np.ndarray) -> np.ndarray:
    # Three explicit adds: ~10× faster than .mean(axis=2) on an interleaved uint8 image.
    r, g, b = (a[:, :, i].astype(np.float32) for i in range(3))
    return (r + g + b) * (1 / (3 * (255.0 if np.issubdtype(a.dtype, np.integer) else 1.0)))


def ink(image) -> np.ndarray:
    """(H, W) float32 ink intensity in [0, 1]: 1 is full ink, whatever the colours of ink and paper."""
    a, full = _checked(image)
    if a.shape[2] == 4:
        if a[:, :, 3].min() == full:     # opaque everywhere (the canvas's usual case): alpha changes nothing
            grey = _grey(a)
        else:
            alpha = a[:, :, 3].astype(np.float32) / full
            if _border(alpha) < 0.5:     # transparent paper: the ink is whatever is opaque
                return alpha
            grey = _grey(a) * alpha
    elif a.shape[2] == 3:
        grey = _grey(a)
    else:
        grey = a[:, :, 0].astype(np.float32) / full
    paper = _border(grey)
    if paper > 0.5:                      # dark ink on light paper
        return np.clip((paper - grey) / paper, 0, 1)
    grey -= paper                        # in place: grey is this call's own array
    grey /= max(1 - paper, 1e-6)
    return np.clip(grey, 0, 1, out=grey)


def _bbox(mask: np.ndarray):
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def _pad(a: np.ndarray, r: int, value=0, dtype=None) -> np.ndarray:
    """`a` inside a border of r pixels of `value` (np.pad's constant mode, a tenth of its cost on small arrays)."""
    h, w = a.shape
    out = np.full((h + 2 * r, w + 2 * r), value, dtype or a.dtype)
    out[r:r + h, r:r + w] = a
    return out


def _count3(mask: np.ndarray) -> np.ndarray:
    """How many of each pixel's 3×3 block (itself included) are set: nine shifted adds (a pooling layer
    costs ten times more on one CPU thread)."""
    p = _pad(mask, 1, dtype=np.uint8)
    h, w = mask.shape
    return sum(p[i:i + h, j:j + w] for i in range(3) for j in range(3))


def _grow(mask: np.ndarray, r: int) -> np.ndarray:
    """`mask` widened by r pixels in each direction (a square binary dilation, rows then columns)."""
    h, w = mask.shape
    p = _pad(mask, r)
    rows = np.logical_or.reduce([p[i:i + h, :] for i in range(2 * r + 1)])
    return np.logical_or.reduce([rows[:, j:j + w] for j in range(2 * r + 1)])


def ink_extent(image) -> float:
    """How much of the picture the ink spans: its bounding box's longer side over the picture's shorter
    side (0 without ink). A small drawing is worth redrawing larger; a large one that puzzles the model
    is more likely not a digit."""
    x = ink(image)
    mask = x > 0.5 * INK_CONTRAST
    if not mask.any():
        return 0.0
    r0, r1, c0, c1 = _bbox(mask)
    return min(1.0, max(r1 - r0, c1 - c0) / min(x.shape))


def _stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width ≈ area / (half the boundary length): a stroke of width w, length L has area wL, boundary 2L."""
    padded = _pad(mask, 1)
    inner = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    boundary = mask.sum() - inner.sum()
    return 2.0 * mask.sum() / max(boundary, 1)


def _window_max(y: np.ndarray, k: int) -> np.ndarray:
    """Max over each run of k rows: maxima of runs of 1, 2, 4, … rows by doubling, then two overlapping runs
    cover k. log2(k) array passes instead of k: a wide brush costs little more than a thin one."""
    n, w = len(y) - (k - 1), 1
    while 2 * w <= k:
        y = np.maximum(y[:-w], y[w:])
        w *= 2
    return np.maximum(y[:n], y[k - w:k - w + n])


def _morph(x: torch.Tensor, radius: int, dilate: bool) -> torch.Tensor:
    """Square grey-level dilation (max filter) or erosion (min filter) of radius `radius`, rows then columns;
    outside the picture counts as neither ink nor paper (it never erodes the edge). The same values as
    max_pool2d with that padding, 7–12× faster on one CPU thread."""
    k = 2 * radius + 1
    y = _pad(x.numpy() * (1 if dilate else -1), radius, -np.inf)
    y = _window_max(_window_max(y.T, k).T, k)  # along each row (the transposed view's rows), then each column
    return torch.from_numpy(np.ascontiguousarray(y if dilate else -y))


def _resize(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    return F.interpolate(x[None, None], size=(h, w), mode="bilinear", antialias=True, align_corners=False)[0, 0]


def to_mnist(image) -> np.ndarray | None:
    """The 28×28 float32 image in [0, 1] that MNIST would have made of `image`; None if it has no ink."""
    x = ink(image)
    if x.max() < INK_CONTRAST:
        return None
    x = x / x.max()
    # A scanned or photographed digit brings grain and specks of dust: left in, they stretch the bounding
    # box over the whole picture and the digit ends up small and blurred in the middle of the 28×28
    # (low-resolution scans were read 81% right with them, 92% without: python -m digits heldout).
    strong = x >= NOISE
    # Strokes and their edges lie within 3 px of the strong ink's box: the 3×3 count and the 2-px widening
    # are done there only (the same result as on the whole picture, a fraction of the cost on a big canvas).
    r0, r1, c0, c1 = _bbox(strong)
    r0, c0, r1, c1 = max(r0 - 3, 0), max(c0 - 3, 0), min(r1 + 3, x.shape[0]), min(c1 + 3, x.shape[1])
    box = strong[r0:r1, c0:c1]
    strokes = box & (_count3(box) >= SPECK)
    if not strokes.any():
        return None
    near = np.zeros_like(strong)
    near[r0:r1, c0:c1] = _grow(strokes, 2)  # the strokes with their faint edges
    b0, b1, d0, d1 = _bbox((x[r0:r1, c0:c1] > 0.5 * INK_CONTRAST) & near[r0:r1, c0:c1])
    crop = x[r0 + b0:r0 + b1, c0 + d0:c0 + d1]
    paper = x[~near]  # the grain's level (0 on a canvas) is taken off what is left: no grey veil in the 28×28
    floor = min(float(paper.mean() + 3 * paper.std()), NOISE) if paper.any() else 0.0  # clean paper: 0
    if floor > 0.01:
        crop = np.clip((crop - floor) / (1 - floor), 0, 1).astype(np.float32)
    t = torch.from_numpy(np.ascontiguousarray(crop))
    h, w = t.shape
    if max(h, w) > WORK_SIDE:            # shrink big crops first: later steps then cost the same for any input
        s = WORK_SIDE / max(h, w)
        t = _resize(t, max(1, round(h * s)), max(1, round(w * s)))
        h, w = t.shape
    scale = BOX / max(h, w)
    width = _stroke_width((t > 0.5).numpy()) * scale
    lo, hi = STROKE_RANGE
    if width > hi or width < lo:
        target = hi if width > hi else lo
        radius = int(round(abs(width - target) / 2 / scale))
        if radius > 0:
            t = F.pad(t, (radius,) * 4)
            t = _morph(t, radius, dilate=width < lo)
            nz = (t > 0.5 * INK_CONTRAST).numpy()
            if nz.any():
                r0, r1, c0, c1 = _bbox(nz)
                t = t[r0:r1, c0:c1]
            h, w = t.shape
            scale = BOX / max(h, w)
    small = _resize(t, max(1, round(h * scale)), max(1, round(w * scale))).clamp_(0, 1).numpy()
    # Centre of mass to the centre of the 28×28 field (pixel centres 0..27: the centre is 13.5).
    total = small.sum()
    if total < 1e-3:                     # a speck that vanished in the resize: nothing to read
        return None
    cy = (small.sum(axis=1) * np.arange(small.shape[0])).sum() / total
    cx = (small.sum(axis=0) * np.arange(small.shape[1])).sum() / total
    top = min(max(round(13.5 - cy), 0), 28 - small.shape[0])
    left = min(max(round(13.5 - cx), 0), 28 - small.shape[1])
    out = np.zeros((28, 28), np.float32)
    out[top:top + small.shape[0], left:left + small.shape[1]] = small
    return out


def inputs_of(drawings) -> torch.Tensor:
    """float32 (N, 28, 28) in [0, 1]: what to_mnist makes of each drawing's canvas (`.image`), the empty ones left out."""
    xs = [x for x in (to_mnist(d.image) for d in drawings) if x is not None]
    return torch.from_numpy(np.stack(xs))


def read_image(path: Path | str) -> np.ndarray:
    """An image file as an RGBA array; ValueError with a one-line reason. The size is checked from the
    header before any pixel is decoded, so a huge image costs nothing."""
    from PIL import Image

    try:
        with Image.open(path) as im:  # reads the header only
            if im.width > MAX_SIDE or im.height > MAX_SIDE:
                raise ValueError(f"{path} is {im.width}×{im.height} pixels; the most accepted is {MAX_SIDE}×{MAX_SIDE}")
            return np.asarray(im.convert("RGBA"))
    except (OSError, Image.DecompressionBombError) as e:
        raise ValueError(f"cannot read {path}: {str(e)[:200]}") from None


def drawing_logits(model: nn.Module, image) -> tuple[np.ndarray, torch.Tensor] | None:
    """(the 28×28 input, the model's (1, 10) float32 logits) for a drawing, or None without ink."""
    x = to_mnist(image)
    if x is None:
        return None
    with torch.inference_mode(), eval_mode(model):
        return x, model(_network_input(model, x)).float().cpu()


def _network_input(model: nn.Module, x: np.ndarray) -> torch.Tensor:
    """A 28×28 input in [0, 1] as the network takes it: standardised, (1, 1, 28, 28), on the model's device."""
    return standardize(torch.from_numpy(x)).view(1, 1, 28, 28).to(model_device(model))


def shifted(inputs: torch.Tensor) -> torch.Tensor:
    """Standardised (N, 1, 28, 28) inputs as classify reads them: each moved by every offset of SHIFTS (blank paper
    coming in at the edge), (len(SHIFTS) × N, 1, 28, 28), the unmoved ones first."""
    paper = float(standardize(torch.zeros(())))
    padded = F.pad(inputs, (1, 1, 1, 1), value=paper)
    return torch.cat([padded[:, :, 1 - dy:29 - dy, 1 - dx:29 - dx] for dy, dx in SHIFTS])


def read_inputs(model: nn.Module, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """How classify reads standardised (N, 1, 28, 28) inputs that are already what to_mnist makes (MNIST's own
    images are): (probabilities (N, 10) float64 on the CPU, not_digit boolean (N,)). The logits are averaged over
    the shifted views (SHIFTS), then divided by the model's temperature; the not-a-digit detector reads the
    unmoved view, the one it was fitted on (all False for a model without one)."""
    detector = getattr(model, "detector", None)
    probs, not_digit = [], []
    with torch.inference_mode(), eval_mode(model):
        for chunk in inputs.split(READ_BATCH):
            logits, f = features(model, shifted(chunk))
            n, z = len(chunk), logits.float().cpu().double()  # float64 on the CPU (not every device has it)
            probs.append(probabilities(model, z.view(len(SHIFTS), n, z.shape[-1]).mean(0), dim=1))
            not_digit.append(detector.score(f[:n]) > detector.threshold if detector is not None  # SHIFTS[0]: unmoved
                             else torch.zeros(n, dtype=torch.bool))
    if not probs:  # no inputs
        return torch.zeros(0, 10, dtype=torch.float64), torch.zeros(0, dtype=torch.bool)
    return torch.cat(probs), torch.cat(not_digit)


@dataclass(frozen=True)
class Answers:
    """classify's answers for many inputs at once (flags_of): Prediction's fields, batched."""
    probs: torch.Tensor      # (N, 10) float64: the probabilities, as Prediction.probs
    not_digit: torch.Tensor  # (N,) boolean: the not-a-digit detector's verdict (all False without one)

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


def flags_of(model: nn.Module, inputs: torch.Tensor) -> Answers:
    """classify's answers for many standardised (N, 1, 28, 28) inputs at once (see read_inputs)."""
    return Answers(*read_inputs(model, inputs))


def answers_of(model: nn.Module, images: torch.Tensor) -> Answers:
    """classify's answers for uint8 (N, 28, 28) images that are already what to_mnist makes (MNIST's own, the
    room's stored 28×28s), standardised and moved to the model's device here."""
    return flags_of(model, normalize(images).to(model_device(model)))


def classify(model: nn.Module, image) -> Prediction:
    """Read one drawing: canvas RGBA (H×W×4 uint8), RGB or grey array. The probabilities are the logits of
    its 28×28 input and of that input moved by one pixel each way (SHIFTS), averaged, divided by the model's
    temperature (its checkpoint's calibration; 1 without one), then softmax. A model with a not-a-digit
    detector (`model.detector`, from its checkpoint) also says whether the drawing looks like a digit at all,
    from the same forward pass (read_inputs)."""
    x = to_mnist(image)
    if x is None:
        return Prediction(None, np.full(10, 0.1), np.zeros((28, 28), np.float32))
    probs, not_digit = read_inputs(model, _network_input(model, x))
    probs = probs[0].numpy()
    if not np.isfinite(probs).all():  # weights that overflow: say so rather than show a "nan% sure" digit
        raise ValueError("the model's output is not a number for this drawing: its weights are broken")
    return Prediction(int(probs.argmax()), probs / probs.sum(), x, bool(not_digit[0]))
