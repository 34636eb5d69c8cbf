"""Evaluation is pure: a model and a split in, numbers out. Always eval mode, never gradients."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import Split, batches, normalize
from .device import model_device
from .models import eval_mode, inference_batch, probabilities


@dataclass(frozen=True)
class Metrics:
    accuracy: float            # fraction correct, 0..1
    loss: float                # mean cross-entropy
    per_class: np.ndarray      # (10,) accuracy of each true class
    confusion: np.ndarray      # (10, 10) counts, rows = true label, columns = prediction


@dataclass(frozen=True)
class Predictions:
    """A model's answers for every image of a split, from one pass."""
    probs: np.ndarray          # (n, 10) softmax probabilities, with the model's temperature (digits.calibration)
    predicted: np.ndarray      # (n,) predicted labels
    labels: np.ndarray         # (n,) true labels
    metrics: Metrics

    @property
    def correct(self) -> np.ndarray:
        return self.predicted == self.labels


@torch.inference_mode()
def logits_of(model: nn.Module, split: Split, batch_size: int = 2000) -> torch.Tensor:
    """Logits (N, 10) for a whole split, in order, in evaluation mode; the model's mode is left as it was."""
    device = model_device(model)
    with eval_mode(model):
        out = [model(normalize(x.to(device))) for x, _ in batches(split, inference_batch(model, batch_size))]
    return torch.cat(out).float()


def accuracy(model: nn.Module, split: Split, batch_size: int = 2000) -> float:
    return accuracy_of(logits_of(model, split, batch_size), split.labels)


def accuracy_of(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of rows of logits (N, 10) whose argmax is the label."""
    return (logits.argmax(1) == labels.to(logits.device)).float().mean().item()


def evaluate(model: nn.Module, split: Split, batch_size: int = 2000) -> Metrics:
    return metrics_of(logits_of(model, split, batch_size), split.labels)


def metrics_of(logits: torch.Tensor, labels: torch.Tensor) -> Metrics:
    """Accuracy, loss, per-class accuracy and confusion matrix of logits (N, 10) against labels (N,)."""
    labels = labels.to(logits.device)
    predicted = logits.argmax(1)
    confusion = torch.bincount(labels * 10 + predicted, minlength=100).view(10, 10).cpu().numpy()
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return Metrics(
        accuracy=(predicted == labels).float().mean().item(),
        loss=F.cross_entropy(logits, labels).item(),
        per_class=per_class,
        confusion=confusion,
    )


def predict(model: nn.Module, split: Split, batch_size: int = 2000) -> Predictions:
    """Probabilities, predictions and metrics for a whole split (the Predictions page's one pass)."""
    logits = logits_of(model, split, batch_size)
    probs = probabilities(model, logits, dim=1).cpu().numpy()
    return Predictions(probs, probs.argmax(1), split.labels.cpu().numpy(), metrics_of(logits, split.labels))
