"""Evaluation is pure: a model and a split in, numbers out. Always eval mode, never gradients."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import Split, batches, normalize
from .device import model_device
from .models import eval_mode


@dataclass(frozen=True)
class Metrics:
    accuracy: float            # fraction correct, 0..1
    loss: float                # mean cross-entropy
    per_class: np.ndarray      # (10,) accuracy of each true class
    confusion: np.ndarray      # (10, 10) counts, rows = true label, columns = prediction


@dataclass(frozen=True)
class BatchPredictions:
    images: np.ndarray         # (n, 28, 28) uint8
    labels: np.ndarray         # (n,) true labels
    predicted: np.ndarray      # (n,) predicted labels
    probs: np.ndarray          # (n, 10) softmax probabilities
    indices: np.ndarray        # (n,) positions in the split


@torch.inference_mode()
def logits_of(model: nn.Module, split: Split, batch_size: int = 2000) -> torch.Tensor:
    """Logits (N, 10) for a whole split, in order, in evaluation mode; the model's mode is left as it was."""
    device = model_device(model)
    with eval_mode(model):
        out = [model(normalize(x.to(device))) for x, _ in batches(split, batch_size)]
    return torch.cat(out).float()


def accuracy(model: nn.Module, split: Split, batch_size: int = 2000) -> float:
    logits = logits_of(model, split, batch_size)
    return (logits.argmax(1) == split.labels.to(logits.device)).float().mean().item()


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


def predict_batch(model: nn.Module, split: Split, indices) -> BatchPredictions:
    """Predictions for the given positions of a split (a page of the gallery)."""
    idx = torch.as_tensor(np.asarray(indices, dtype=np.int64))
    sub = Split(split.images[idx.to(split.images.device)], split.labels[idx.to(split.labels.device)])
    probs = torch.softmax(logits_of(model, sub), dim=1).cpu()
    return BatchPredictions(
        images=sub.images.cpu().numpy(),
        labels=sub.labels.cpu().numpy(),
        predicted=probs.argmax(1).numpy(),
        probs=probs.numpy(),
        indices=idx.numpy(),
    )
