"""The labelled corpus of residents' complaints the classifier is trained and measured on, generated.

``generate(split, per_theme, seed)`` writes complaints as 12345 operators and callers word them:
an opening, a place, a time, the problem, what it does to the caller and what they ask for, in
varying order, with colloquial fillers and the typos of hurried typing. The ``train`` and
``held_out`` splits share no problem phrasing (service/residents/phrases.py) and no sentence frame
(the templates below): the held-out score measures phrasings the model never saw, not recall of
its training sentences. Deterministic for a seed.

``python -m service.residents.corpus OUT.jsonl --split held_out`` writes one split as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from service.residents.phrases import PHRASES
from service.residents.themes import THEME_KEYS

Split = Literal["train", "held_out"]

ROADS = ("临汾路", "岭南路", "场中路", "共和新路", "闻喜路", "阳曲路", "汾西路")
ESTATES = ("闻喜苑", "阳曲小区", "岭南一村", "汾西小区", "场中一村", "临汾小区", "新梅共和城")
PLACES = ("小区门口", "楼下", "弄堂口", "菜场旁边", "公交站边上", "超市对面")

# Sentence frames: {open} opening, {where} place, {when} time, {problem}, {effect}, {ask}.
TEMPLATES: dict[Split, tuple[str, ...]] = {
    "train": (
        "{open}{where}{problem}，{effect}，{ask}",
        "{where}{when}{problem}，{ask}",
        "{open}{when}{where}{problem}。{effect}。",
        "{problem}，地址{where}，{ask}",
        "来电人反映：{where}{problem}，{effect}。",
        "{where}{problem}{when}，{effect}",
        "{open}{problem}，{ask}。地址：{where}",
    ),
    "held_out": (
        "市民来电称{when}{where}{problem}，要求相关部门处理",
        "我住在{where}，{problem}，{effect}，{ask}",
        "{problem}！！{effect}。在{where}",
        "诉求人表示{where}{problem}已经{when}了，{ask}",
        "你好，{where}这边{problem}，{ask}，谢谢",
        "{when}，{problem}（{where}），{effect}",
    ),
}

OPENINGS: dict[Split, tuple[str, ...]] = {
    "train": ("", "投诉", "反映一下", "我要投诉，", "麻烦问一下，", "市民反映"),
    "held_out": ("", "举报", "跟你们说个事，", "来电反映，", "喂，"),
}
TIMES: dict[Split, tuple[str, ...]] = {
    "train": ("每天晚上", "最近一个月", "凌晨两三点", "今天早上", "周末", "已经好几天"),
    "held_out": ("这段时间", "天天", "昨天夜里", "半个多月", "一到晚上", "最近"),
}
EFFECTS: dict[Split, tuple[str, ...]] = {
    "train": ("影响居民生活", "实在受不了了", "已经反映过很多次了", "大家意见很大", "家里有老人小孩"),
    "held_out": ("邻居们都有意见", "真的没法过了", "打了好几次电话都没用", "严重影响日常生活"),
}
ASKS: dict[Split, tuple[str, ...]] = {
    "train": ("请尽快处理", "希望有关部门管一管", "请派人来看看", "要求整改", "麻烦你们管管"),
    "held_out": ("希望尽快解决", "请你们来查一下", "要求给个说法", "请相关部门介入"),
}
# Hurried typing: the wrong character of the same sound, as input methods produce it.
HOMOPHONES = {
    "噪": "燥",
    "吵": "炒",
    "再": "在",
    "在": "再",
    "的": "地",
    "反映": "反应",
    "投诉": "头诉",
    "垃圾": "拉圾",
}
PARTICLES = ("啊", "呀", "哈", "呢", "嘛", "哦")


def _address(rng: random.Random) -> str:
    road = rng.choice(ROADS)
    form = rng.randrange(6)
    if form == 0:
        return f"{road}{rng.randint(1, 1200)}号"
    if form == 1:
        return f"{road}{rng.randint(1, 999)}弄{rng.randint(1, 60)}号"
    if form == 2:
        return f"{rng.choice(ESTATES)}{rng.randint(1, 40)}号楼"
    if form == 3:
        return f"{road}{rng.randint(1, 999)}弄{rng.choice(PLACES)}"
    if form == 4:
        other = rng.choice([r for r in ROADS if r != road])
        return f"{road}{other}路口"
    return f"{rng.choice(ESTATES)}{rng.choice(PLACES)}"


def _roughen(text: str, rng: random.Random) -> str:
    """Typos, particles and punctuation as callers and hurried operators write them."""
    if rng.random() < 0.3:
        wrong, right = rng.choice(list(HOMOPHONES.items()))
        text = text.replace(wrong, right, 1)
    if rng.random() < 0.3:
        text = text.replace("，", rng.choice(PARTICLES) + "，", 1)
    if rng.random() < 0.2:
        text = text.replace("，", " ")
    if rng.random() < 0.15:
        text = text.replace("。", "。。。")
    return text


def complaint(theme: str, split: Split, rng: random.Random) -> str:
    """One generated complaint about ``theme`` in the phrasing of ``split``."""
    bank = PHRASES[theme]
    phrasings = bank.train if split == "train" else bank.held_out
    first, second = rng.sample(phrasings, 2)
    problem = first.format(s=rng.choice(bank.subjects))
    if rng.random() < 0.25:  # a second symptom of the same problem, as callers pile them up
        problem = f"{problem}，还{second.format(s='').lstrip('的')}"
    text = rng.choice(TEMPLATES[split]).format(
        open=rng.choice(OPENINGS[split]),
        where=_address(rng),
        when=rng.choice(TIMES[split]),
        problem=problem,
        effect=rng.choice(EFFECTS[split]),
        ask=rng.choice(ASKS[split]),
    )
    return _roughen(text, rng)


def generate(split: Split, *, per_theme: int, seed: int, themes: Sequence[str] = THEME_KEYS) -> list[tuple[str, str]]:
    """``per_theme`` (text, theme) pairs for each theme, in a seeded shuffled order."""
    rng = random.Random(f"{split}:{seed}")
    pairs = [(complaint(theme, split, rng), theme) for theme in themes for _ in range(per_theme)]
    rng.shuffle(pairs)
    return pairs


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a generated split of the residents' complaint corpus")
    parser.add_argument("out", type=Path, help="JSON lines file: {text, theme} per line")
    parser.add_argument("--split", choices=["train", "held_out"], default="train")
    parser.add_argument("--per-theme", type=int, default=400)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    with args.out.open("w", encoding="utf-8") as out:
        for text, theme in generate(args.split, per_theme=args.per_theme, seed=args.seed):
            out.write(json.dumps({"text": text, "theme": theme}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
