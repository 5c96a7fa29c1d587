"""One-to-one matching of predicted to true objects by intersection over union.

With a threshold of at least 0.5, each object can overlap at most one partner above it,
so thresholding the IoU matrix gives a one-to-one matching (as in the DSB 2018 and
StarDist evaluations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MatchResult:
    """Counts and scores of a matching at one IoU threshold."""

    n_true: int
    n_pred: int
    tp: int

    @property
    def fp(self) -> int:
        return self.n_pred - self.tp

    @property
    def fn(self) -> int:
        return self.n_true - self.tp

    @property
    def precision(self) -> float:
        return self.tp / self.n_pred if self.n_pred else float(self.n_true == 0)

    @property
    def recall(self) -> float:
        return self.tp / self.n_true if self.n_true else float(self.n_pred == 0)

    @property
    def f1(self) -> float:
        total = self.n_true + self.n_pred
        return 2 * self.tp / total if total else 1.0


def iou_matrix(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """IoU of every true label (rows, 1..T) with every predicted label (columns, 1..P)."""
    if truth.shape != pred.shape:
        raise ValueError(f"label images differ in shape: {truth.shape} vs {pred.shape}")
    t = truth.ravel().astype(np.int64)
    p = pred.ravel().astype(np.int64)
    nt, npred = int(t.max()) + 1, int(p.max()) + 1
    inter = np.bincount(t * npred + p, minlength=nt * npred).reshape(nt, npred)
    area_t = inter.sum(axis=1, keepdims=True)
    area_p = inter.sum(axis=0, keepdims=True)
    union = area_t + area_p - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return iou[1:, 1:]


def match_objects(truth: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> MatchResult:
    """Match label images one to one at ``IoU > threshold`` (threshold >= 0.5)."""
    if threshold < 0.5:
        raise ValueError(f"threshold must be >= 0.5 for a one-to-one matching, got {threshold}")
    iou = iou_matrix(truth, pred)
    n_true = len(np.unique(truth[truth > 0]))
    n_pred = len(np.unique(pred[pred > 0]))
    tp = int((iou > threshold).sum()) if iou.size else 0
    return MatchResult(n_true=n_true, n_pred=n_pred, tp=tp)


def matched_predictions(truth: np.ndarray, pred: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """For each predicted label of ``labels`` (1..P), whether it matches a true object one
    to one (IoU > 0.5): bool, one per label."""
    iou = iou_matrix(truth, pred)
    best = iou.max(axis=0) if iou.shape[0] else np.zeros(iou.shape[1])
    labels = np.asarray(labels, dtype=int)
    return best[labels - 1] > 0.5 if len(labels) else np.zeros(0, dtype=bool)
