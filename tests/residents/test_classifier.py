"""The shipped complaint-theme model: its held-out score, and that it is what train.py makes from the
corpus generator. Its load time and speed are measured by benchmarks/bench_classifier.py, not here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.residents import corpus
from service.residents.classifier import MODEL_PATH, ThemeClassifier, features, ngrams, shipped_classifier
from service.residents.corpus import generate
from service.residents.evaluation import evaluate, score_predictions
from service.residents.phrases import PHRASES
from service.residents.themes import THEME_KEYS, THEMES, category_of_theme
from service.residents.train import SEED, train, write_model


@pytest.fixture(scope="module")
def held_out() -> list[tuple[str, str]]:
    return generate("held_out", per_theme=60, seed=SEED)


def test_the_shipped_model_reaches_the_target_on_the_held_out_split(held_out: list[tuple[str, str]]) -> None:
    result = evaluate(shipped_classifier(), held_out)
    assert result.macro_f1 >= 0.90
    assert all(row.recall >= 0.75 for row in result.per_theme), result.per_theme


def test_every_theme_files_under_a_unified_category_and_the_model_knows_every_theme() -> None:
    assert shipped_classifier().themes == THEME_KEYS
    assert {theme.label for theme in THEMES} >= {
        "噪声扰民",
        "油烟",
        "占道经营",
        "群租",
        "停车",
        "电梯",
        "物业",
        "垃圾",
        "违法搭建",
        "其他",
    }
    assert category_of_theme("fumes") == "appearance" and category_of_theme("parking") == "traffic"
    assert category_of_theme("no such theme") == "other"


def test_classify_gives_a_theme_and_a_probability() -> None:
    result = shipped_classifier().classify("临汾路375弄小区门口那家烧烤店每天晚上吵到凌晨两点，根本睡不着")
    scores = shipped_classifier().scores("临汾路375弄小区门口那家烧烤店每天晚上吵到凌晨两点，根本睡不着")
    assert result.theme == "noise" and result.confidence > 1 / len(THEME_KEYS)
    assert scores.index(max(scores)) == THEME_KEYS.index("noise")
    assert shipped_classifier().classify("").theme in THEME_KEYS  # no n-gram: the biases decide


def test_the_held_out_split_shares_no_phrasing_and_no_frame_with_training() -> None:
    for theme, bank in PHRASES.items():
        assert not set(bank.train) & set(bank.held_out), theme
    assert not set(corpus.TEMPLATES["train"]) & set(corpus.TEMPLATES["held_out"])
    for words in (corpus.OPENINGS, corpus.TIMES, corpus.EFFECTS, corpus.ASKS):
        assert not (set(words["train"]) - {""}) & set(words["held_out"])
    train_texts = {text for text, _ in generate("train", per_theme=100, seed=SEED)}
    assert not train_texts & {text for text, _ in generate("held_out", per_theme=100, seed=SEED)}


def test_the_corpus_is_the_same_for_a_seed_and_balanced() -> None:
    first = generate("train", per_theme=20, seed=3)
    assert first == generate("train", per_theme=20, seed=3)
    assert first != generate("train", per_theme=20, seed=4)
    assert sorted(theme for _, theme in first) == sorted(list(THEME_KEYS) * 20)


def test_features_are_the_distinct_ngrams_normalised() -> None:
    assert ngrams("Ａb 12") == {"a", "b", "0", "ab", "b0", "ab0"}
    values = features("噪音噪音")
    assert set(values) == {"噪", "音", "噪音", "音噪", "噪音噪", "音噪音"}
    assert all(value == pytest.approx(1 / 6**0.5) for value in values.values())


def test_scores_per_theme() -> None:
    truth, predicted = ["noise", "noise", "fumes", "fumes"], ["noise", "fumes", "fumes", "fumes"]
    result = score_predictions(truth, predicted, ["noise", "fumes", "other"])
    noise, fumes, other = result.per_theme
    assert (noise.precision, noise.recall) == (1.0, 0.5)
    assert (fumes.precision, fumes.recall) == (pytest.approx(2 / 3), 1.0)
    assert other.support == 0 and result.accuracy == 0.75
    assert result.macro_f1 == pytest.approx((noise.f1 + fumes.f1) / 2)  # a theme with no text is not averaged


@pytest.mark.slow
def test_a_retrain_from_the_generator_gives_the_shipped_model(tmp_path: Path, held_out: list[tuple[str, str]]) -> None:
    retrained = train()
    shipped = shipped_classifier()
    assert set(retrained.weights) == set(shipped.weights)
    texts = [text for text, _ in held_out]
    agree = sum(retrained.classify(text).theme == shipped.classify(text).theme for text in texts)
    assert agree / len(texts) >= 0.995
    write_model(retrained, tmp_path / "model.json")
    assert json.loads((tmp_path / "model.json").read_text("utf-8"))["themes"] == list(THEME_KEYS)
    assert ThemeClassifier.load(tmp_path / "model.json").classify(texts[0]) == retrained.classify(texts[0])
    assert MODEL_PATH.name == "theme_model.json"
