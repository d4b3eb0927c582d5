"""Per-theme precision and recall and the macro-F1 of the classifier on labelled texts, in plain Python."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from service.residents.classifier import ThemeClassifier


class ThemeScore(NamedTuple):
    theme: str
    precision: float
    recall: float
    f1: float
    support: int


class Evaluation(NamedTuple):
    per_theme: list[ThemeScore]
    macro_f1: float
    accuracy: float


def evaluate(classifier: ThemeClassifier, pairs: Sequence[tuple[str, str]]) -> Evaluation:
    """Score ``classifier`` on (text, theme) pairs."""
    predicted = [classifier.classify(text).theme for text, _ in pairs]
    return score_predictions([theme for _, theme in pairs], predicted, classifier.themes)


def score_predictions(truth: Sequence[str], predicted: Sequence[str], themes: Sequence[str]) -> Evaluation:
    """Precision, recall and F1 per theme, their macro average, and the accuracy."""
    hits = Counter(t for t, p in zip(truth, predicted, strict=True) if t == p)
    said = Counter(predicted)
    real = Counter(truth)
    rows = []
    for theme in themes:
        precision = hits[theme] / said[theme] if said[theme] else 0.0
        recall = hits[theme] / real[theme] if real[theme] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(ThemeScore(theme, precision, recall, f1, real[theme]))
    scored = [row for row in rows if row.support]
    macro_f1 = sum(row.f1 for row in scored) / len(scored) if scored else 0.0
    return Evaluation(rows, macro_f1, sum(hits.values()) / len(truth) if truth else 0.0)
