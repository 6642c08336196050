"""Ordinary traffic on the seized phones: family, friends and colleagues.

It spans the whole period so a seized phone covers its officer from the first
to the last day.  Messages carry no identifiers, and nothing goes to a
watch-listed person, an operation target or a lookup subject.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kit.synth import idgen
from kit.synth.agency import PLANTED_BASE

if TYPE_CHECKING:
    from kit.synth.planted import Story

CHAT = (
    "今天幾點下班？",
    "晚餐要吃什麼",
    "記得買牛奶",
    "小孩發燒了，先帶去看醫生",
    "週末回家吃飯",
    "東西放在車子裏面",
    "幫我買化粧水",
    "冷氣設定恒溫就好",
    "好，路上小心",
    "收到",
    "明天輪休嗎",
    "聚餐改到下週",
    "學長今天值班辛苦了",
    "報告寫好了嗎",
)


def background(s: Story) -> pd.DataFrame:
    """Return the background communications of every seized officer."""
    rng = np.random.default_rng(np.random.SeedSequence(s.seed, spawn_key=(11,)))
    frames = []
    start, end = s.bounds[0], s.bounds[-1]
    days = np.arange(start, end, 86400, dtype=np.int64)
    salt = s.agency.salt
    for k, officer in enumerate(s.seized.tolist()):
        family = [
            str(x) for x in idgen.phones(PLANTED_BASE + 500_000 + k * 10 + np.arange(4), salt=salt)
        ]
        lines = [f"{w}_{k}{i}" for i, w in enumerate(("mom", "honey", "ahwei", "chen.friend"))]
        unit = s.unit(officer)
        mates = [s.text(o, "phone") for o in s.pool if s.unit(o) == unit and o != officer]
        contacts = family + lines + mates[:3]
        outside = np.array([True] * (len(family) + len(lines)) + [False] * len(mates[:3]))
        per_day = rng.poisson(3, len(days))
        t = np.repeat(days, per_day) + rng.integers(7 * 3600, 23 * 3600, int(per_day.sum()))
        n = len(t)
        who = rng.integers(0, len(contacts), n)
        counterpart = np.array(contacts, dtype=object)[who]
        is_line = np.isin(counterpart, lines)
        kind = np.where(is_line, "訊息", np.where(rng.random(n) < 0.5, "通話", "簡訊"))
        content = np.where(
            kind == "通話", "", np.array(CHAT, dtype=object)[rng.integers(0, len(CHAT), n)]
        )
        direction = np.where(rng.random(n) < 0.55, "發", "收")
        keep = np.ones(n, dtype=bool)
        for q_officer, lo, hi in s.quiet:
            if q_officer == officer:
                keep &= ~((t >= lo) & (t <= hi) & outside[who])
        names = np.array(
            ["媽媽", "老婆", "阿偉", "陳同學"] * 2 + ["學長"] * len(mates[:3]), dtype=object
        )
        frames.append(
            pd.DataFrame(
                {
                    "time": t[keep],
                    "officer": officer,
                    "officer_id": s.oid(officer),
                    "own_phone": s.text(officer, "phone"),
                    "counterpart": counterpart[keep],
                    "counterpart_name": names[who][keep],
                    "direction": direction[keep],
                    "type": kind[keep],
                    "content": content[keep],
                    "_planted": False,
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["time", "officer", "officer_id"])
    return pd.concat(frames, ignore_index=True)
