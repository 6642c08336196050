"""Shared pieces of a chunk's records: canonical lookup columns, fresh numbers, helpers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kit.synth import idgen
from kit.synth.frames import frame as object_frame

LOOKUP_COLUMNS = (
    "time",
    "unit",
    "user",
    "ip",
    "operation",
    "conditions",
    "actual_user",
    "actual_unit",
    "purpose",
    "result",
    "device",
    "case_no",
)
"""Canonical query-log columns, in export order."""


CORE_COLUMNS = LOOKUP_COLUMNS[:9]


@dataclass
class Counters:
    """Fresh identifier and record numbers for one chunk (disjoint across chunks)."""

    chunk: int
    salt: int
    person: int = 0
    plate: int = 0
    phone: int = 0
    account: int = 0
    case: int = 0
    ticket: int = 0

    def fresh(self, entity: str, n: int) -> np.ndarray:
        """Return ``n`` identifiers never used elsewhere in the dataset."""
        if entity == "person_id":
            base, self.person = 10_000_000 + self.chunk * 900_000 + self.person, self.person + n
            return idgen.person_ids(base + np.arange(n), salt=self.salt).astype(object)
        if entity == "plate":
            base, self.plate = 10_000_000 + self.chunk * 550_000 + self.plate, self.plate + n
            return idgen.plates(base + np.arange(n), salt=self.salt).astype(object)
        if entity == "phone":
            base, self.phone = 5_000_000 + self.chunk * 400_000 + self.phone, self.phone + n
            return idgen.phones(base + np.arange(n), salt=self.salt).astype(object)
        base, self.account = 10_000_000 + self.chunk * 1_000_000 + self.account, self.account + n
        return idgen.accounts(base + np.arange(n), salt=self.salt).astype(object)

    def case_numbers(self, opened: np.ndarray) -> np.ndarray:
        """Return case numbers ``1120012345`` (ROC year + 7 digits)."""
        n = len(opened)
        seq = self.chunk * 40_000 + self.case + np.arange(n)
        self.case += n
        year = (
            np.asarray(opened, dtype="datetime64[s]").astype("datetime64[Y]").astype(int)
            + 1970
            - 1911
        )
        return (pd.Series(year).astype(str) + pd.Series(seq).astype(str).str.zfill(7)).to_numpy(
            dtype=object
        )

    def ticket_numbers(self, n: int) -> np.ndarray:
        """Return ticket numbers ``GFA1234567``."""
        seq = self.chunk * 60_000 + self.ticket + np.arange(n)
        self.ticket += n
        letter = np.array(list("ABCDEFGH"), dtype=object)[seq % 8]
        return (
            "GF" + letter + pd.Series(seq).astype(str).str.zfill(7).to_numpy(dtype=object)
        ).astype(object)


@dataclass
class Records:
    """The records of one chunk."""

    lookups: pd.DataFrame
    cases: pd.DataFrame
    tickets: pd.DataFrame
    worklog: pd.DataFrame
    identities: pd.DataFrame


def choice(
    rng: np.random.Generator, options: tuple[str, ...], p: tuple[float, ...], n: int
) -> np.ndarray:
    """Return ``n`` random picks among options with weights ``p``."""
    return np.array(options, dtype=object)[rng.choice(len(options), size=n, p=np.array(p) / sum(p))]


def minute(t: np.ndarray) -> np.ndarray:
    """Round local times down to the minute."""
    return t - t % 60


def lookup_base(
    ev: pd.DataFrame, officers: pd.DataFrame, offset: np.ndarray
) -> dict[str, np.ndarray]:
    """Return the columns every lookup of some events shares (account, unit, IP, device)."""
    o = officers.loc[ev["officer"].to_numpy()]
    hand = ev["handheld"].to_numpy()
    return {
        "officer": ev["officer"].to_numpy(),
        "time": ev["time"].to_numpy() + offset,
        "unit": o["unit"].to_numpy(),
        "user": o["officer_id"].to_numpy(),
        "ip": np.where(hand, o["device_ip"].to_numpy(), o["ip"].to_numpy()),
        "device": np.where(hand, o["device"].to_numpy(), "PC"),
        "hand": hand,
        "type": ev["type"].to_numpy(),
    }


def lookup_frame(
    base: dict[str, np.ndarray],
    op: np.ndarray,
    cond: np.ndarray,
    purpose: np.ndarray,
    subject: np.ndarray,
    case_no: np.ndarray | None = None,
) -> pd.DataFrame:
    """Return lookups with the canonical columns plus ``officer``, ``expl``, ``subject``."""
    n = len(op)
    op = np.where(base["hand"], "M-Police-" + op.astype(object), op)
    frame = object_frame(
        {
            "officer": base["officer"],
            "time": base["time"],
            "unit": base["unit"],
            "user": base["user"],
            "ip": base["ip"],
            "operation": op,
            "conditions": cond,
            "actual_user": base["user"],
            "actual_unit": base["unit"],
            "purpose": purpose,
            "result": np.full(n, "", dtype=object),
            "device": base["device"],
            "case_no": case_no if case_no is not None else np.full(n, "", dtype=object),
            "expl": base["type"],
            "subject": subject,
        }
    )
    return frame
