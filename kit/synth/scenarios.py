"""The planted scenarios, each modelled on a case of the handbook.

``plan_scenarios`` picks the officers, the people around them and the month
of each scenario; ``place_scenarios`` puts the lookups into the roster of that
month.  Expected flags are computed from DOMAIN.md's rule definitions as the
rows are planted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from kit.synth.planted import Story

HOUR, MINUTE, DAY = 3600, 60, 86400
STORIES = {
    "case6_false_ticket": (
        6,
        "An officer who suspects his ex-wife's new partner looks up the man's car "
        "off duty, entering the purpose 舉發交通違規 (traffic ticket); no ticket exists. "
        "The car is registered to the partner and used by the ex-wife.",
    ),
    "case4_pi_sergeant": (
        4,
        "A sergeant looks up people, month after month, for a retired colleague who now "
        "works for a watch-listed private-investigator firm; he enters case numbers that do "
        "not exist and texts the IDs to the retired colleague.",
    ),
    "case2_165_bulk": (
        2,
        "An officer queries the 165 anti-fraud system for a burst of bank accounts with no "
        "case, then sends the account numbers by LINE to a watch-listed fraud suspect.",
    ),
    "case3_photo": (
        3,
        "An officer uses his handheld's account, with no device signed out, to look up a woman "
        "he met online, including her ID photo, then messages her on LINE.",
    ),
    "case5_unmarked": (
        5,
        "A deputy chief checks a wanted informant in the wanted-persons system and looks up "
        "the unmarked police cars parked near the informant's home, then calls and texts him.",
    ),
    "case1_raid_tipoff": (
        1,
        "A station chief who knows of a planned raid on a sex business phones the "
        "watch-listed operator before the raid.",
    ),
    "case8_raid_tipoff": (
        8,
        "A team leader who knows of a planned raid on a gambling den tells the operator, "
        "a friend, by LINE before the raid.",
    ),
    "account_sharing": (
        0,
        "An officer's account is used by a colleague of the same unit; the log shows the "
        "other officer as the actual querier and nothing records why.",
    ),
    "cross_unit_proxy": (
        0,
        "An officer of one unit has an officer of another unit run lookups for him on "
        "the other's account (代查), unrecorded.",
    ),
    "concurrent_ip": (
        0,
        "One account is used from two computers minutes apart (a shared password).",
    ),
    "after_separation": (0, "An account is used after its officer left the force."),
    "self_family": (0, "An officer looks up himself and a family member."),
}


def _scenario(s: Story, scenario: str, officers: list[int], **plan: Any) -> None:
    case, story = STORIES[scenario]
    s.scenarios[scenario] = {"case": case, "officers": [s.oid(o) for o in officers], "story": story}
    s.plan[scenario] = plan


def _roc_birth(rng: np.random.Generator) -> str:
    year, month, day = rng.integers(60, 90), rng.integers(1, 13), rng.integers(1, 29)
    return f"{int(year):03d}{int(month):02d}{int(day):02d}"


def plan_scenarios(s: Story) -> None:
    """Choose officers, counterparts and months of every scenario."""
    rng = s.rng
    months = s.months

    def month() -> int:
        return int(rng.integers(0, months))

    o6 = s.choose(("警員",))
    ex, partner = s.fresh("person_id", 2)
    plate, pphone = s.fresh("plate")[0], s.fresh("phone")[0]
    s.relations.append(
        {
            "officer_id": s.oid(o6),
            "relation": "前配偶",
            "identifier": f"身分證號={ex}",
            "name": s.name(),
        }
    )
    s.ident += [
        (f"車牌={plate}", f"身分證號={partner}", "車主", "車籍資料"),
        (f"車牌={plate}", f"身分證號={ex}", "使用人", "車籍資料"),
        (f"電話={pphone}", f"身分證號={partner}", "門號申請人", "通聯調閱"),
    ]
    _scenario(
        s, "case6_false_ticket", [o6], officer=o6, month=month(), plate=plate, partner=partner
    )

    sergeant = s.choose(("巡佐",))
    retired = s.retired
    biz = f"{int(rng.integers(10_000_000, 99_999_999))}"
    pi_phone = s.fresh("phone")[0]
    r_id, r_phone = s.text(retired, "person_id"), s.text(retired, "phone")
    s.watch += [
        (f"統一編號={biz}", "徵信業者", "鑫探徵信有限公司"),
        (r_id, "徵信業者", "退休員警，任職鑫探徵信社"),
        (f"電話={pi_phone}", "徵信業者", "徵信社門號"),
    ]
    s.ident += [
        (f"電話={r_phone}", f"身分證號={r_id}", "門號申請人", "通聯調閱"),
        (f"電話={pi_phone}", f"統一編號={biz}", "門號申請人", "通聯調閱"),
    ]
    _scenario(
        s,
        "case4_pi_sergeant",
        [sergeant, retired],
        officer=sergeant,
        r_phone=r_phone,
        seized=[sergeant],
    )

    f2 = s.choose(("警員", "偵查佐"))
    ring = s.fresh("person_id")[0]
    line = f"money{int(rng.integers(100, 999))}king"
    s.watch.append((f"身分證號={ring}", "詐欺嫌疑", "詐騙集團成員"))
    s.ident.append((f"LINE={line}", f"身分證號={ring}", "LINE帳號", "通訊軟體調閱"))
    _scenario(s, "case2_165_bulk", [f2], officer=f2, month=month(), line=line, seized=[f2])

    p3 = s.choose(("警員",))
    woman = s.fresh("person_id")[0]
    lw = f"lily{int(rng.integers(1000, 9999))}"
    s.ident += [
        (f"LINE={lw}", f"身分證號={woman}", "LINE帳號", "通訊軟體調閱"),
        (f"電話={s.fresh('phone')[0]}", f"身分證號={woman}", "門號申請人", "通聯調閱"),
    ]
    _scenario(
        s,
        "case3_photo",
        [p3],
        officer=p3,
        month=month(),
        woman=woman,
        line=lw,
        name=s.name(),
        birth=_roc_birth(rng),
        seized=[p3],
    )

    d5 = s.choose(("副所長",))
    wanted, w_phone = s.fresh("person_id")[0], s.fresh("phone")[0]
    s.watch.append((f"身分證號={wanted}", "通緝犯", "詐欺案通緝中"))
    s.ident.append((f"電話={w_phone}", f"身分證號={wanted}", "門號申請人", "通聯調閱"))
    _scenario(
        s,
        "case5_unmarked",
        [d5],
        officer=d5,
        month=month(),
        wanted=wanted,
        phone=w_phone,
        seized=[d5],
    )

    for name, titles, category, op_name, link in (
        ("case1_raid_tipoff", ("所長",), "色情業者", "取締色情護膚店專案", "phone"),
        ("case8_raid_tipoff", ("小隊長", "巡佐"), "賭博業者", "掃蕩職業賭場專案", "line"),
    ):
        chief = s.choose(titles)
        target, t_phone = s.fresh("person_id")[0], s.fresh("phone")[0]
        s.watch.append((f"身分證號={target}", category, f"經營{category[:2]}場所"))
        s.ident.append((f"電話={t_phone}", f"身分證號={target}", "門號申請人", "通聯調閱"))
        m = month()
        planned = (
            s.bounds[m]
            + DAY * int(rng.integers(2, 18))
            + 10 * HOUR
            + MINUTE * int(rng.integers(0, 300))
        )
        executed = planned + DAY * int(rng.integers(2, 6)) + 8 * HOUR
        team = [
            chief,
            *[o for o in s.pool if s.unit(o) == s.unit(chief) and o != chief][:3],
        ]
        sep = "；" if s.messy else ";"
        s.ops.append(
            {
                "operation_no": f"OP{s.roc_year(planned)}-{len(s.ops) + 1:04d}",
                "name": op_name,
                "planned": planned,
                "executed": executed,
                "targets": f"身分證號={target}{sep}電話={t_phone}",
                "officers": sep.join(s.oid(o) for o in team),
            }
        )
        call = planned + DAY + 11 * HOUR + MINUTE * int(rng.integers(0, 90))
        if link == "phone":
            s.add_comm(
                name, chief, call, t_phone, "發", "通話", expected=["TIPOFF", "WATCHLIST_CONTACT"]
            )
        else:
            lt = f"bigwin{int(rng.integers(10, 99))}"
            s.ident.append((f"LINE={lt}", f"身分證號={target}", "LINE帳號", "通訊軟體調閱"))
            s.add_comm(
                name,
                chief,
                call,
                lt,
                "發",
                "訊息",
                "明天一早有人會過去，東西先收一收",
                expected=["TIPOFF", "WATCHLIST_CONTACT"],
            )
        s.add_comm(name, chief, executed + DAY, t_phone, "收", "通話")
        s.mark_busy(chief, call)
        _scenario(s, name, [chief], seized=[chief])

    a = s.choose(("警員",))
    mates = [o for o in s.pool if s.unit(o) == s.unit(a) and o != a]
    b = int(mates[int(rng.integers(0, len(mates)))]) if mates else s.choose(("警員",))
    _scenario(s, "account_sharing", [a, b], account=a, querier=b, month=month())
    a2 = s.choose(("警員",))
    others = [o for o in s.pool if s.unit(o) != s.unit(a2)]
    c2 = int(others[int(rng.integers(0, len(others)))])
    _scenario(s, "cross_unit_proxy", [a2, c2], account=a2, querier=c2, month=month())
    e = s.choose(("警員",))
    _scenario(s, "concurrent_ip", [e], officer=e, month=month())
    leaver = int(s.leavers[int(rng.integers(0, len(s.leavers)))])
    end = s.end_of(leaver)
    when = end + DAY * int(rng.integers(2, 6)) + 10 * HOUR + MINUTE * int(rng.integers(0, 400))
    if when < s.bounds[-1]:
        _scenario(s, "after_separation", [leaver], officer=leaver, time=when)
    g = s.choose(("警員", "巡佐"))
    _scenario(s, "self_family", [g], officer=g, month=month())
    _background(s)


WATCH_CATEGORIES = ("色情業者", "賭博業者", "徵信業者", "詐欺嫌疑", "通緝犯", "其他")


def _background(s: Story) -> None:
    """High-risk subjects and planned operations that no one misuses."""
    rng = s.rng
    count = 8 + len(s.officers) // 200
    people, phones = s.fresh("person_id", count), s.fresh("phone", count)
    for i, (person, phone) in enumerate(zip(people, phones, strict=True)):
        category = WATCH_CATEGORIES[i % len(WATCH_CATEGORIES)]
        identifier = f"身分證號={person}" if i % 3 else person
        s.watch.append((identifier, category, ""))
        if i % 4 == 0:
            s.watch.append((f"電話={phone}", category, "聯絡門號"))
    seized = set(s.plan_seized())
    quiet = [o for o in s.pool if o not in seized]
    for i in range(1 + s.months // 2):
        m = int(rng.integers(0, s.months))
        planned = s.bounds[m] + DAY * int(rng.integers(1, 20)) + 9 * HOUR
        team = [quiet[int(rng.integers(0, len(quiet)))] for _ in range(3)] if quiet else []
        targets = [f"身分證號={t}" for t in s.fresh("person_id", 2)]
        executed = planned + DAY * int(rng.integers(1, 7)) + 11 * HOUR
        if i == 0 and seized:
            # Boundary of TIPOFF: an officer who knows the operation calls a
            # target (not watch-listed) one minute before it is planned and
            # one minute after it is executed; neither call is a tip-off.
            insider = min(seized)
            team.append(insider)
            phone = s.fresh("phone")[0]
            targets.append(f"電話={phone}")
            for when in (planned - 60, executed + 60):
                s.add_comm("op_target_outside_window", insider, when, phone, "發", "通話")
        sep = "；" if s.messy else ";"
        s.ops.append(
            {
                "operation_no": f"OP{s.roc_year(planned)}-{len(s.ops) + 1:04d}",
                "name": ("擴大臨檢專案", "查緝毒品專案", "取締非法賭博專案")[i % 3],
                "planned": planned,
                "executed": executed,
                "targets": sep.join(targets),
                "officers": sep.join(dict.fromkeys(s.oid(o) for o in team)),
            }
        )
