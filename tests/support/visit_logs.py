"""人民情感日志 visits as the visit log's system pushes them, deterministic for a seed.

Households in the sample register's communities (service/demo/data/registry.csv), one to three
needs from the fixed list (service/residents/needs.py) weighted the way door-to-door visits in an
old 新村 go (elevators, parking and property first), about one visit in twenty with a need marked
急, the contact's name and phone, and sometimes the phone again in the free text.
"""

from __future__ import annotations

import csv
import random
from datetime import date
from typing import Any

from service.residents.needs import NEED_NAMES
from tests.support.hotline_orders import REGISTRY

NEED_WEIGHTS: dict[str, float] = {
    "加装电梯": 9, "停车难": 8, "物业服务": 7, "噪声扰民": 5, "垃圾清运": 4, "养老服务": 4, "环境卫生": 3,
    "群租整治": 3, "油烟扰民": 2, "违法搭建": 2, "电梯维修": 2, "占道经营": 2, "治安防范": 1, "消防安全": 1,
    "食品安全": 1, "就医就业": 1, "其他": 1,
}  # fmt: skip
CONTACTS = ("周阿姨", "钱老伯", "孙桂芳", "吴建华", "郑美玲", "冯志强", "陈阿婆", "褚国庆")
CADRES = ("居委干部甲", "居委干部乙", "街道联络员丙", "楼组长丁")
NOTES = ("腿脚不便，上下楼困难", "晚上经常被吵醒", "小区车位太少", "希望多来看看", "物业不太管事", "")
SATISFACTION = ("非常满意", "满意", "满意", "基本满意", "不满意")

assert set(NEED_WEIGHTS) == set(NEED_NAMES), "every need on the list has a weight"


def communities() -> list[str]:
    with REGISTRY.open(encoding="utf-8-sig") as handle:
        return sorted({row["community"] for row in csv.DictReader(handle) if row["community"]})


def generate_visits(count: int, seed: int, day: date) -> list[dict[str, Any]]:
    """``count`` visits made on ``day``, the same for the same seed."""
    rng = random.Random(f"visit-logs:{seed}")
    places = communities()
    names, weights = zip(*NEED_WEIGHTS.items(), strict=True)
    visits = []
    for number in range(1, count + 1):
        needs = list(dict.fromkeys(rng.choices(names, weights, k=rng.randint(1, 3))))
        urgent = needs[0] if rng.random() < 0.05 else None
        phone = f"13{rng.randint(5, 8)}{rng.randrange(10**8):08d}"
        contact = rng.choice(CONTACTS)
        note = rng.choice(NOTES)
        if rng.random() < 0.2:
            note = f"{note}，联系{contact}电话{phone}"
        visit: dict[str, Any] = {
            "走访编号": f"ZF-{day:%Y%m%d}-{number:04d}",
            "走访日期": day.isoformat(),
            "居委": rng.choice(places),
            "走访对象类型": "住户",
            "走访对象": f"{rng.choice(('临汾路', '阳曲路', '岭南路', '汾西路'))}{rng.randint(1, 999)}弄"
            f"{rng.randint(1, 40)}号{rng.randint(1, 6)}0{rng.randint(1, 4)}室",
            "联系人": contact,
            "联系电话": phone,
            "走访干部": rng.choice(CADRES),
            "需求": [{"项目": need, "急": True} if need == urgent else need for need in needs],
            "需求说明": note,
            "满意度": rng.choice(SATISFACTION),
        }
        visits.append(visit)
    return visits
