"""The story of a dataset: who does what wrong, when, and where it lands.

:class:`Story` chooses the officers of every planted scenario and hard
negative, places their lookups in the roster of the month being generated,
drops the officer's ordinary lookups of that day (so nothing else in the day
interferes), keeps the extra records (work log, tickets, cases, register,
communications, watch list, identities, operations), and remembers the file
and line where each planted row is written, for the answer key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from kit.synth import idgen
from kit.synth.agency import PLANTED_BASE, Agency, rng_for
from kit.synth.records import Counters, Records

STATION_DUTIES = frozenset({"值班", "備勤", "內勤", "刑案偵查", "專案勤務"})


class Story:
    """Planted scenarios and hard negatives of one dataset.

    Parameters
    ----------
    seed : int
        Dataset seed.
    agency : Agency
        The agency.
    officers : pandas.DataFrame
        Officers with ``kind`` and ``group``.
    bounds : list of int
        Local seconds of each month start, plus the end of the period.
    messy : bool
        Messy output (warning rows, bad rows, overlaps).
    block : int
        Officers per chunk: scenario officers are taken from the first block.

    """

    def __init__(
        self,
        seed: int,
        agency: Agency,
        officers: pd.DataFrame,
        bounds: list[int],
        *,
        messy: bool,
        block: int,
    ) -> None:
        self.seed = seed
        self.agency = agency
        self.officers = officers
        self.bounds = bounds
        self.months = len(bounds) - 1
        self.messy = messy
        self.rng = rng_for(seed, 9)
        self._columns: dict[str, np.ndarray] = {}
        self._units = officers["unit_no"].to_numpy()
        self._ends = officers["end_date"].to_numpy()
        self.rows: list[dict[str, Any]] = []
        self.comms: list[dict[str, Any]] = []
        self.watch: list[tuple[str, str, str]] = []
        self.ident: list[tuple[str, str, str, str]] = []
        self.ops: list[dict[str, Any]] = []
        self.relations: list[dict[str, Any]] = []
        self.end_override: dict[int, int] = {}
        self.busy: set[tuple[int, int]] = set()
        self.quiet: list[tuple[int, int, int]] = []
        self.scenarios: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, list[pd.DataFrame]] = {"worklog": [], "tickets": [], "cases": []}
        self.next_index = {"person_id": 0, "plate": 0, "phone": 0, "account": 0}
        self.next_case = 0
        self.done: set[tuple[str, int]] = set()
        block_officers = officers.iloc[:block]
        in_service = block_officers[
            (block_officers["end_date"] < 0) & (block_officers.index < len(officers) - 1)
        ]
        self.pool = list(in_service.index.to_numpy())
        self.leavers = list(
            block_officers[
                (block_officers["end_date"] >= bounds[0])
                & (block_officers.index < len(officers) - 1)
            ].index
        )
        self.retired = len(officers) - 1
        self.used: list[int] = []
        self.plan: dict[str, dict[str, Any]] = {}
        from kit.synth.negatives import plan_negatives
        from kit.synth.scenarios import plan_scenarios

        plan_scenarios(self)
        self.seized = np.array(
            sorted({o for p in self.plan.values() for o in p.get("seized", [])}), dtype=int
        )
        plan_negatives(self)

    # -- choosing people -----------------------------------------------------
    def choose(self, titles: tuple[str, ...] = (), *, kind: str | None = None) -> int:
        """Pick an officer of the first block not yet used (by title preference)."""
        free = [o for o in self.pool if o not in self.used] or list(self.pool)
        frame = self.officers.loc[free]
        preferred = frame[frame["title"].isin(titles)] if titles else frame
        if kind is not None and len(preferred[preferred["kind"] == kind]):
            preferred = preferred[preferred["kind"] == kind]
        candidates = list(preferred.index) or free
        officer = int(candidates[int(self.rng.integers(0, len(candidates)))])
        self.used.append(officer)
        return officer

    def fresh(self, entity: str, n: int = 1) -> list[str]:
        """Return identifiers of the planted population (never used by ordinary lookups)."""
        start = self.next_index[entity]
        self.next_index[entity] += n
        index = PLANTED_BASE + start + np.arange(n)
        salt = self.agency.salt
        make: dict[str, Callable[..., np.ndarray]] = {
            "person_id": idgen.person_ids,
            "plate": idgen.plates,
            "phone": idgen.phones,
            "account": idgen.accounts,
        }
        return [str(x) for x in make[entity](index, salt=salt)]

    def name(self) -> str:
        """Return a random person name."""
        return str(idgen.names(self.rng, 1)[0])

    def oid(self, officer: int) -> str:
        """Return an officer's ID."""
        return self.text(officer, "officer_id")

    def text(self, officer: int, column: str) -> str:
        """Return a text field of an officer."""
        if column not in self._columns:
            self._columns[column] = self.officers[column].to_numpy()
        return str(self._columns[column][officer])

    def unit(self, officer: int) -> int:
        """Return an officer's unit number."""
        return int(self._units[officer])

    def end_of(self, officer: int) -> int:
        """Return an officer's end date (local seconds, -1 when in service)."""
        return int(self._ends[officer])

    def _end_override_array(self) -> np.ndarray:
        """End dates after the overrides (separated officers' last day of service)."""
        ends = np.full(len(self.officers), -1, dtype=np.int64)
        for officer, end in self.end_override.items():
            ends[officer] = end
        return ends

    @staticmethod
    def roc_year(t: int) -> int:
        """Return the ROC year (民國) of a local time."""
        return int(np.datetime64(int(t), "s").astype("datetime64[Y]").astype(int)) + 1970 - 1911

    def month_of(self, t: int) -> int:
        """Return the month index of a time."""
        return int(np.searchsorted(np.array(self.bounds), t, side="right") - 1)

    # -- roster queries ------------------------------------------------------
    @staticmethod
    def segments(
        roster: pd.DataFrame, officer: int, duties: frozenset[str] | None = None
    ) -> pd.DataFrame:
        """Return an officer's on-duty shifts (optionally of some duties)."""
        officers = roster["officer"].to_numpy()
        lo = np.searchsorted(officers, officer, side="left")
        hi = np.searchsorted(officers, officer, side="right")
        rows = roster.iloc[lo:hi]
        rows = rows[rows["on_duty"].to_numpy()]
        if duties is not None:
            rows = rows[rows["duty"].isin(duties).to_numpy()]
        return rows

    def pick_segment(
        self,
        roster: pd.DataFrame,
        officer: int,
        duties: frozenset[str] | None = None,
        *,
        not_before: int = 0,
        not_after: int | None = None,
    ) -> pd.Series | None:
        """Pick a random shift of an officer on a day not yet used by another story."""
        rows = self.segments(roster, officer, duties)
        rows = rows[rows["start"] >= not_before]
        if not_after is not None:
            rows = rows[rows["start"] <= not_after]
        rows = rows[[(officer, int(d)) not in self.busy for d in rows["day"]]]
        if rows.empty:
            return None
        return rows.iloc[int(self.rng.integers(0, len(rows)))]

    def off_days(self, roster: pd.DataFrame, officer: int, day_starts: np.ndarray) -> list[int]:
        """Days on which the officer has no on-duty shift between 08:00 and 23:00."""
        on = self.segments(roster, officer)
        out = []
        for day in day_starts:
            lo, hi = int(day) + 8 * 3600, int(day) + 23 * 3600
            clash = ((on["start"] < hi) & (on["end"] > lo)).any()
            if not clash and (officer, int(day)) not in self.busy:
                out.append(int(day))
        return out

    def plan_seized(self) -> list[int]:
        """Officers whose phones are seized, as planned so far."""
        return sorted({o for p in self.plan.values() for o in p.get("seized", [])})

    def mark_busy(self, officer: int, t: int) -> None:
        """Reserve an officer's day (their ordinary lookups of that day are dropped)."""
        self.busy.add((officer, int(t) - int(t) % 86400))

    # -- planted rows --------------------------------------------------------
    def lookup(
        self,
        section: str,
        scenario: str,
        querier: int,
        t: int,
        operation: str,
        conditions: str,
        purpose: str,
        *,
        user: int | None = None,
        ip: str | None = None,
        handheld: bool = False,
        actual_unit: str | None = None,
        case_no: str = "",
        expected: list[str] | None = None,
        boundary: str = "",
        case: int = 0,
        subject: str = "",
        reason: str = "",
    ) -> dict[str, Any]:
        """Add a planted, hard-negative or warning lookup; return its row."""
        account = querier if user is None else user
        q = self.officers.loc[querier]
        a = self.officers.loc[account]
        op = f"M-Police-{operation}" if handheld else operation
        row = {
            "officer": querier,
            "time": int(t),
            "unit": a["unit"],
            "user": a["officer_id"],
            "ip": ip or (q["device_ip"] if handheld else a["ip"]),
            "operation": op,
            "conditions": conditions,
            "actual_user": q["officer_id"],
            "actual_unit": actual_unit or q["unit"],
            "purpose": purpose,
            "result": "成功",
            "device": q["device"] if handheld else "PC",
            "case_no": case_no,
            "expl": section,
            "subject": subject,
            "strong": False,
            "tag": len(self.rows),
            "_section": section,
            "_scenario": scenario,
            "_case": case,
            "_expected": sorted(set(expected or [])),
            "_boundary": boundary,
            "_reason": reason,
            "_file": "",
            "_line": "",
        }
        if section == "planted":
            flags = set(expected or [])
            if int(t) % 86400 < 6 * 3600:
                flags.add("ODD_HOURS")
            if "相片影像" in operation:
                flags.add("PHOTO_LOOKUP")
            row["_expected"] = sorted(flags)
        self.rows.append(row)
        self.mark_busy(querier, t)
        self.mark_busy(account, t)
        return row

    def add_worklog(self, officer: int, t: int, content: str, case_no: str = "") -> None:
        """Add a work-log line (time rounded down to the minute)."""
        self.pending["worklog"].append(
            pd.DataFrame(
                {
                    "time": [int(t) - int(t) % 60],
                    "officer_id": [self.oid(officer)],
                    "content": [content],
                    "case_no": [case_no],
                }
            )
        )

    def add_ticket(self, officer: int, t: int, plate: str, person_id: str = "") -> None:
        """Add a traffic ticket."""
        number = f"GH{self.seed % 100:02d}{self.next_case:06d}"
        self.next_case += 1
        self.pending["tickets"].append(
            pd.DataFrame(
                {
                    "ticket_no": [number],
                    "time": [int(t)],
                    "officer_id": [self.oid(officer)],
                    "plate": [plate],
                    "person_id": [person_id],
                    "violation": ["違規停車"],
                }
            )
        )

    def add_case(
        self,
        counters: Counters,
        officer: int,
        category: str,
        opened: int,
        closed: int,
        parties: list[str],
    ) -> str:
        """Add a case handled by the officer; return its number."""
        opened = int(opened) - int(opened) % 60
        number = str(counters.case_numbers(np.array([opened]))[0])
        self.pending["cases"].append(
            pd.DataFrame(
                {
                    "case_no": [number],
                    "category": [category],
                    "opened": [opened],
                    "closed": [int(closed)],
                    "officers": [self.oid(officer)],
                    "parties": [";".join(parties)],
                }
            )
        )
        return number

    def add_comm(
        self,
        scenario: str,
        officer: int,
        t: int,
        counterpart: str,
        direction: str,
        kind: str,
        content: str = "",
        *,
        name: str = "",
        expected: list[str] | None = None,
        planted: bool = True,
    ) -> None:
        """Add a communication of a seized phone."""
        self.comms.append(
            {
                "time": int(t),
                "officer": officer,
                "officer_id": self.oid(officer),
                "own_phone": str(self.officers.at[officer, "phone"]),
                "counterpart": counterpart,
                "counterpart_name": name,
                "direction": direction,
                "type": kind,
                "content": content,
                "_scenario": scenario,
                "_expected": sorted(set(expected or [])),
                "_planted": planted,
                "_file": "",
                "_line": "",
            }
        )

    # -- injection -----------------------------------------------------------
    def inject(
        self,
        month: int,
        roster: pd.DataFrame,
        register: pd.DataFrame,
        records: Records,
        counters: Counters,
    ) -> tuple[Records, pd.DataFrame, pd.DataFrame]:
        """Place this month's planted rows in the first block's records."""
        from kit.synth.negatives import place_negatives
        from kit.synth.placers import place_scenarios

        first = len(self.rows)
        place_scenarios(self, month, roster, counters)
        place_negatives(self, month, roster, register, counters)
        new = pd.DataFrame(self.rows[first:])
        lookups = records.lookups
        day = lookups["time"].to_numpy() - lookups["time"].to_numpy() % 86400
        busy_keys = np.array([o * 1_000_000 + d // 86400 for o, d in self.busy], dtype=np.int64)
        keys = lookups["officer"].to_numpy().astype(np.int64) * 1_000_000 + day // 86400
        busy = np.isin(keys, busy_keys)
        ends = self._end_override_array()[lookups["officer"].to_numpy()]
        late = (ends >= 0) & (lookups["time"].to_numpy() >= ends + 86400)
        lookups = lookups[~busy & ~late].assign(tag=-1)
        if len(new):
            lookups = pd.concat([lookups, new[[*lookups.columns]]], ignore_index=True)
        extra = {k: pd.concat(v, ignore_index=True) if v else None for k, v in self.pending.items()}
        self.pending = {"worklog": [], "tickets": [], "cases": []}

        def add(frame: pd.DataFrame, more: pd.DataFrame | None) -> pd.DataFrame:
            return frame if more is None else pd.concat([frame, more], ignore_index=True)

        out = Records(
            lookups,
            add(records.cases, extra["cases"]),
            add(records.tickets, extra["tickets"]),
            add(records.worklog, extra["worklog"]),
            records.identities,
        )
        return out, register, roster

    # -- where rows land ------------------------------------------------------
    def record_lines(self, rows: pd.DataFrame, path: str, lines: list[str]) -> None:
        """Remember the file and line of tagged rows."""
        tags = rows["tag"].to_numpy() if "tag" in rows else np.zeros(0)
        for i in np.flatnonzero(tags >= 0):
            row = self.rows[int(tags[i])]
            if not row["_file"]:
                row["_file"], row["_line"] = path, lines[i]

    def record_comm_lines(self, rows: pd.DataFrame, path: str, lines: list[str]) -> None:
        """Remember where planted communications were written."""
        for i, index in enumerate(rows["_index"].to_numpy()):
            if index < 0:
                continue
            self.comms[int(index)]["_file"] = path
            self.comms[int(index)]["_line"] = lines[i]

    # -- static tables ------------------------------------------------------
    def extra_relations(self) -> pd.DataFrame:
        """Relation rows the scenarios need."""
        return pd.DataFrame(
            self.relations, columns=["officer_id", "relation", "identifier", "name"]
        )

    def watchlist(self) -> pd.DataFrame:
        """Return the watch list."""
        return pd.DataFrame(self.watch, columns=["identifier", "category", "note"])

    def identities(self) -> pd.DataFrame:
        """Return identifiers known to belong together."""
        return pd.DataFrame(self.ident, columns=["identifier", "belongs_to", "link", "source"])

    def operations(self) -> pd.DataFrame:
        """Planned operations."""
        cols = ["operation_no", "name", "planned", "executed", "targets", "officers"]
        return pd.DataFrame(self.ops, columns=cols)

    def communications(self) -> pd.DataFrame:
        """Every communication of the seized phones, background included, by officer and time."""
        from kit.synth.comms import background

        planted = pd.DataFrame(self.comms)
        planted["_index"] = np.arange(len(planted))
        frame = pd.concat([planted, background(self)], ignore_index=True)
        frame["_index"] = frame["_index"].fillna(-1).astype(int)
        cp950 = sorted(frame["officer_id"].unique())[:1]
        frame["cp950"] = frame["officer_id"].isin(cp950) & self.messy
        frame = frame.sort_values(["officer_id", "time"], kind="stable").reset_index(drop=True)
        self._comm_frame = frame
        return frame


__all__ = ["STATION_DUTIES", "Story"]
