"""Train the complaint-theme model on the generated corpus and write theme_model.json (needs the [dev] extra).

``python -m service.residents.train`` (or ``make theme-model``) regenerates the shipped model
from the corpus generator with the fixed seed and settings below, so the file in the package is
reproducible. scikit-learn fits a multinomial logistic regression on the exact feature map the
service reads with (classifier.features); weights are then pruned (|w| below PRUNE_BELOW in every
theme) and rounded to thousandths, which changes no prediction on the held-out set (tests/residents check it).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression

from service.residents.classifier import MODEL_PATH, NGRAM_MAX, ThemeClassifier, features
from service.residents.corpus import generate
from service.residents.themes import THEME_KEYS

SEED = 15
TRAIN_PER_THEME = 400
HELD_OUT_PER_THEME = 200
REGULARISATION_C = 5.0
PRUNE_BELOW = 0.1
WEIGHT_SCALE = 0.001  # weights are stored as integers in thousandths: a third of the file, same predictions


def train(*, seed: int = SEED, per_theme: int = TRAIN_PER_THEME) -> ThemeClassifier:
    """Fit the model on the generated training split and return it pruned, as it ships."""
    pairs = generate("train", per_theme=per_theme, seed=seed)
    vectoriser = DictVectorizer()
    matrix = vectoriser.fit_transform([features(text) for text, _ in pairs])
    model = LogisticRegression(C=REGULARISATION_C, max_iter=2000)
    model.fit(matrix, [theme for _, theme in pairs])
    order = [list(model.classes_).index(theme) for theme in THEME_KEYS]
    coef = model.coef_[order]
    weights: dict[str, list[int]] = {}
    for column, gram in enumerate(vectoriser.get_feature_names_out()):
        if abs(coef[:, column]).max() >= PRUNE_BELOW:
            weights[str(gram)] = [round(float(value) / WEIGHT_SCALE) for value in coef[:, column]]
    bias = [round(float(value), 4) for value in model.intercept_[order]]
    return ThemeClassifier(THEME_KEYS, bias, weights, weight_scale=WEIGHT_SCALE, ngram_max=NGRAM_MAX)


def write_model(classifier: ThemeClassifier, path: Path = MODEL_PATH) -> None:
    """Write the model compactly, n-grams sorted, so a retrain with the same settings gives the same file."""
    data = classifier.to_json()
    data["weights"] = dict(sorted(data["weights"].items()))
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the complaint-theme model and write it into the package")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    classifier = train(seed=args.seed)
    write_model(classifier, args.out)
    print(f"wrote {args.out}: {len(classifier.weights)} n-grams, {args.out.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
