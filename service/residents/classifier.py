"""The theme of a resident's complaint from its free text: a linear model over character n-grams, in plain Python.

The model is trained with scikit-learn at build time (service/residents/train.py) and shipped as
``theme_model.json``: for each kept n-gram its weight per theme (integers in thousandths), and a
bias per theme. Reading a
text needs no scikit-learn and no numpy: the text's distinct 1–3 character n-grams (after
normalising) each weigh ``1/√n``, the weights of the known ones are summed per theme, and the
softmax of the scores is the confidence. This is exactly the feature map train.py fits on.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

MODEL_PATH = Path(__file__).with_name("theme_model.json")
NGRAM_MAX = 3
_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"[0-9]+")


class Classification(NamedTuple):
    theme: str
    confidence: float  # the model's probability of that theme, 0–1


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no spaces, every number as one ``0`` (house numbers say nothing)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _DIGITS.sub("0", _SPACES.sub("", text))


def ngrams(text: str, ngram_max: int = NGRAM_MAX) -> set[str]:
    """The distinct character n-grams (1 to ``ngram_max``) of the normalised text."""
    norm = normalise(text)
    grams: set[str] = set()
    for size in range(1, ngram_max + 1):
        grams.update(norm[i : i + size] for i in range(len(norm) - size + 1))
    return grams


def features(text: str, ngram_max: int = NGRAM_MAX) -> dict[str, float]:
    """The feature vector the model reads: each distinct n-gram weighs 1/√(number of distinct n-grams)."""
    grams = ngrams(text, ngram_max)
    if not grams:
        return {}
    value = 1.0 / math.sqrt(len(grams))
    return dict.fromkeys(grams, value)


class ThemeClassifier:
    """A linear model over character n-grams: per-theme weights of each n-gram, and per-theme biases."""

    def __init__(
        self,
        themes: Iterable[str],
        bias: Iterable[float],
        weights: dict[str, list[int]],
        *,
        weight_scale: float,
        ngram_max: int = NGRAM_MAX,
    ) -> None:
        self.themes = tuple(themes)
        self.bias = list(bias)
        self.weights = weights  # n-gram → its weight per theme, in units of weight_scale
        self.weight_scale = weight_scale
        self.ngram_max = ngram_max
        if len(self.bias) != len(self.themes) or any(len(row) != len(self.themes) for row in weights.values()):
            raise ValueError("every weight row and the bias need one value per theme")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ThemeClassifier:
        return cls(
            data["themes"],
            data["bias"],
            data["weights"],
            weight_scale=data["weight_scale"],
            ngram_max=data.get("ngram_max", NGRAM_MAX),
        )

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> ThemeClassifier:
        """Read a model written by train.py."""
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))

    def to_json(self) -> dict[str, Any]:
        return {
            "themes": list(self.themes),
            "bias": self.bias,
            "ngram_max": self.ngram_max,
            "weight_scale": self.weight_scale,
            "weights": self.weights,
        }

    def scores(self, text: str) -> list[float]:
        """The theme's linear scores for ``text``, in the order of ``themes``."""
        grams = ngrams(text, self.ngram_max)
        weights = self.weights
        rows = [row for gram in grams if (row := weights.get(gram)) is not None]
        if not rows:
            return list(self.bias)
        scale = self.weight_scale / math.sqrt(len(grams))
        return [b + scale * sum(column) for b, column in zip(self.bias, zip(*rows, strict=True), strict=True)]

    def classify(self, text: str) -> Classification:
        """The most likely theme of ``text`` and its probability."""
        scores = self.scores(text)
        top = max(range(len(scores)), key=scores.__getitem__)
        total = sum(math.exp(score - scores[top]) for score in scores)
        return Classification(self.themes[top], 1.0 / total)


@cache
def shipped_classifier() -> ThemeClassifier:
    """The model that ships with the service, read once per process."""
    return ThemeClassifier.load()
