"""The review panel: step through a case's unreviewed suspicious lookups in JupyterLab.

For each lookup the panel shows what was found (flags, explanations and
their reasons from ``assessment.evidence``), the querier's duty at that time
(roster), the entry/exit register around it and the flagged communications
near it, all masked through the case's :class:`~kit.mask.Masker` and escaped
(tables go through ``DataFrame.to_html``). The investigator sets a status and
a note, saves (one line appended to ``annotations.jsonl``) and goes on.

Every widget is an attribute, so a test (or a script) can drive the panel:
``panel.status_input.value = "confirmed"; panel.save_button.click()``.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from kit.case.annotations import (
    STATUSES,
    CaseError,
    Status,
    _as_bool,
    annotate,
    current_annotations,
)
from kit.case.case import load_case
from kit.mask import Masker
from kit.schema import TIMEZONE

CONTEXT = pd.Timedelta(hours=12)
"""How far around a lookup the roster and register rows shown reach."""
COMMUNICATION_WINDOW = (pd.Timedelta(days=1), pd.Timedelta(days=3))
"""Flagged communications shown: from one day before to three days after the lookup."""


def _table(frame: pd.DataFrame, empty: str) -> str:
    """Return an escaped HTML table, or an escaped line when there is nothing to show."""
    if frame.empty:
        return f"<p><i>{html.escape(empty)}</i></p>"
    return frame.to_html(index=False, escape=True, na_rep="", border=0)


def _local(values: pd.Series) -> pd.Series:
    times = pd.to_datetime(values)
    if times.dt.tz is None:
        return times.dt.tz_localize(TIMEZONE)
    return times.dt.tz_convert(TIMEZONE)


def _text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return ""
    return str(value)


class ReviewPanel(widgets.VBox):
    """A widget to review a case's suspicious lookups one by one.

    Parameters
    ----------
    case_dir
        The case folder.
    assessment
        The assessment of the case (``.lookups``, ``.evidence``, ``.communications``).
    dataset
        The dataset assessed (its ``duty_roster`` and ``register`` are shown).
    masker
        Masks every identifier shown.
    investigator
        Who reviews (default: the case's investigator).
    only_unreviewed
        Step through the lookups not yet reviewed (default) or every suspicious one.

    Attributes
    ----------
    queue
        The lookup IDs to step through, by time.
    position_label, lookup_html, evidence_html, duty_html, register_html,
    communications_html, status_input, note_input, reason_input,
    investigator_input, previous_button, save_button, next_button, message_label
        The widgets.

    """

    def __init__(
        self,
        case_dir: Path | str,
        assessment: Any,
        dataset: Any,
        *,
        masker: Masker,
        investigator: str | None = None,
        only_unreviewed: bool = True,
    ) -> None:
        super().__init__()
        self.case = load_case(case_dir)
        self.assessment = assessment
        self.dataset = dataset
        self.masker = masker
        lookups = assessment.lookups
        suspicious = lookups[_as_bool(lookups["suspicious"]).to_numpy()]
        suspicious = suspicious.sort_values(["time", "lookup_id"], kind="stable")
        if only_unreviewed:
            current = current_annotations(self.case.path)
            done = current.loc[current["status"] != Status.UNREVIEWED.value, "lookup_id"]
            suspicious = suspicious[~suspicious["lookup_id"].isin(done).to_numpy()]
        self._lookups = suspicious.set_index("lookup_id", drop=False)
        self.queue: list[str] = suspicious["lookup_id"].astype(str).tolist()
        self.position = 0
        self.saved: list[str] = []

        self.position_label = widgets.Label()
        self.lookup_html = widgets.HTML()
        self.evidence_html = widgets.HTML()
        self.duty_html = widgets.HTML()
        self.register_html = widgets.HTML()
        self.communications_html = widgets.HTML()
        self.status_input = widgets.Dropdown(options=list(STATUSES), description="status")
        self.note_input = widgets.Textarea(description="note", layout={"width": "60%"})
        self.reason_input = widgets.Text(description="reason", layout={"width": "60%"})
        self.investigator_input = widgets.Text(
            value=investigator or self.case.investigator or "", description="investigator"
        )
        self.previous_button = widgets.Button(description="◀ previous")
        self.save_button = widgets.Button(description="save", button_style="primary")
        self.next_button = widgets.Button(description="next ▶")
        self.message_label = widgets.Label()
        self.previous_button.on_click(lambda _button: self.go(self.position - 1))
        self.next_button.on_click(lambda _button: self.go(self.position + 1))
        self.save_button.on_click(lambda _button: self.save())
        self.children = [
            self.position_label,
            self.lookup_html,
            widgets.HTML("<b>Flags and explanations</b>"),
            self.evidence_html,
            widgets.HTML("<b>Duty roster</b>"),
            self.duty_html,
            widgets.HTML("<b>Register</b>"),
            self.register_html,
            widgets.HTML("<b>Flagged communications</b>"),
            self.communications_html,
            self.status_input,
            self.reason_input,
            self.note_input,
            self.investigator_input,
            widgets.HBox([self.previous_button, self.save_button, self.next_button]),
            self.message_label,
        ]
        self.go(0)

    @property
    def lookup_id(self) -> str | None:
        """The lookup shown, or ``None`` when the queue is empty."""
        if not self.queue:
            return None
        return self.queue[self.position]

    def go(self, position: int) -> None:
        """Show the lookup at ``position`` of the queue (clamped to the queue)."""
        if not self.queue:
            self.position = 0
            self.position_label.value = "no suspicious lookup left to review"
            for pane in self._panes():
                pane.value = ""
            self.save_button.disabled = True
            return
        self.position = min(max(position, 0), len(self.queue) - 1)
        lookup_id = self.queue[self.position]
        lookup = self._lookups.loc[lookup_id]
        self.position_label.value = f"{self.position + 1} / {len(self.queue)}"
        self.lookup_html.value = self._lookup_view(lookup)
        self.evidence_html.value = self._evidence_view(lookup_id)
        self.duty_html.value, self.register_html.value = self._duty_views(lookup)
        self.communications_html.value = self._communications_view(lookup)
        current = current_annotations(self.case.path)
        mine = current[current["lookup_id"] == lookup_id]
        if mine.empty:
            status, note, reason = Status.UNREVIEWED.value, "", ""
        else:
            row = mine.iloc[-1]
            status, note, reason = row["status"], _text(row["note"]), _text(row["reason"])
        self.status_input.value = status
        self.note_input.value = note
        self.reason_input.value = reason
        self.save_button.disabled = False
        self.message_label.value = ""

    def save(self) -> None:
        """Record the status, note and reason set for the lookup shown."""
        lookup_id = self.lookup_id
        if lookup_id is None:
            return
        try:
            annotate(
                self.case.path,
                lookup_id,
                self.status_input.value,
                note=self.note_input.value,
                reason=self.reason_input.value or None,
                investigator=self.investigator_input.value,
            )
        except CaseError as error:
            self.message_label.value = f"not saved: {error.message}"
            return
        self.saved.append(lookup_id)
        self.message_label.value = f"saved: {self.status_input.value}"

    def _panes(self) -> tuple[widgets.HTML, ...]:
        return (
            self.lookup_html,
            self.evidence_html,
            self.duty_html,
            self.register_html,
            self.communications_html,
        )

    def _lookup_view(self, lookup: pd.Series) -> str:
        fields = [
            "time",
            "user",
            "actual_user",
            "unit",
            "operation",
            "purpose",
            "conditions",
            "flags",
            "severity",
            "score",
            "explanations",
            "not_checked",
        ]
        masked = {"purpose", "conditions"}
        rows = [
            (name, self.masker.text(_text(lookup[name])) if name in masked else _text(lookup[name]))
            for name in fields
            if name in lookup.index
        ]
        return _table(pd.DataFrame(rows, columns=["field", "value"]), "")

    def _evidence_view(self, lookup_id: str) -> str:
        evidence = self.assessment.evidence
        mine = evidence[(evidence["lookup_id"] == lookup_id).to_numpy()]
        shown = pd.DataFrame(
            {
                "code": mine["code"].astype("string"),
                "kind": mine["kind"].astype("string"),
                "reason": self.masker.text_series(mine["reason"].astype("string"), keep_dates=True),
                "rests on": mine["rests_on"].astype("string"),
            }
        )
        return _table(shown, "no flag or explanation recorded")

    def _querier(self, lookup: pd.Series) -> str:
        actual = _text(lookup.get("actual_user"))
        return actual or _text(lookup.get("user"))

    def _duty_views(self, lookup: pd.Series) -> tuple[str, str]:
        querier = self._querier(lookup)
        moment = pd.Timestamp(lookup["time"])
        moment = moment.tz_localize(TIMEZONE) if moment.tzinfo is None else moment
        roster = self.dataset.duty_roster
        roster = roster[(roster["officer_id"] == querier).to_numpy()]
        start, end = _local(roster["start"]), _local(roster["end"])
        near = ((end > moment - CONTEXT) & (start < moment + CONTEXT)).to_numpy()
        at = (start <= moment) & (moment < end)
        duty = pd.DataFrame(
            {
                "start": start.dt.strftime("%Y-%m-%d %H:%M"),
                "end": end.dt.strftime("%Y-%m-%d %H:%M"),
                "duty": roster["duty"].astype("string"),
                "at the lookup": at.map({True: "yes", False: ""}),
            }
        )[near]
        register = self.dataset.register
        register = register[(register["officer_id"] == querier).to_numpy()]
        out_time, in_time = _local(register["out_time"]), _local(register["in_time"])
        open_end = in_time.isna()
        near_out = (
            (out_time < moment + CONTEXT) & (open_end | (in_time > moment - CONTEXT))
        ).to_numpy()
        out_at = (out_time <= moment) & (open_end | (moment < in_time))
        entries = pd.DataFrame(
            {
                "out": out_time.dt.strftime("%Y-%m-%d %H:%M"),
                "in": in_time.dt.strftime("%Y-%m-%d %H:%M"),
                "reason": register["reason"].astype("string"),
                "out at the lookup": out_at.map({True: "yes", False: ""}),
            }
        )[near_out]
        return (
            _table(duty, "no roster row within 12 hours (off duty, or not covered)"),
            _table(entries, "no register entry within 12 hours"),
        )

    def _communications_view(self, lookup: pd.Series) -> str:
        communications = self.assessment.communications
        if communications is None or communications.empty:
            return _table(pd.DataFrame(), "no flagged communication")
        moment = pd.Timestamp(lookup["time"])
        times = _local(communications["time"])
        before, after = COMMUNICATION_WINDOW
        near = (
            (communications["officer_id"] == self._querier(lookup))
            & (times >= moment - before)
            & (times <= moment + after)
        ).to_numpy()
        mine = communications[near]
        shown = pd.DataFrame(
            {
                "time": times[near].dt.strftime("%Y-%m-%d %H:%M"),
                "direction": mine["direction"].astype("string"),
                "counterpart": self.masker.text_series(mine["counterpart"].astype("string")),
                "type": mine["type"].astype("string"),
                "content": self.masker.text_series(mine["content"].astype("string")),
                "flags": mine["flags"].astype("string"),
            }
        )
        return _table(shown, "no flagged communication from a day before to 3 days after")


def review_panel(
    case_dir: Path | str,
    assessment: Any,
    dataset: Any,
    *,
    masker: Masker,
    investigator: str | None = None,
) -> widgets.Widget:
    """Return the review panel of a case (display it in JupyterLab).

    Parameters
    ----------
    case_dir
        The case folder.
    assessment
        The assessment of the case's officer and period.
    dataset
        The dataset assessed.
    masker
        Masks every identifier shown.
    investigator
        Who reviews (default: the case's investigator).

    Returns
    -------
    ReviewPanel
        The panel (a ``VBox``); its widgets are attributes.

    """
    return ReviewPanel(case_dir, assessment, dataset, masker=masker, investigator=investigator)


def open_review_panel(
    case_dir: Path | str, *, reveal: bool = False, investigator: str | None = None
) -> ReviewPanel:
    """Load a case's data and return its review panel (one call for a notebook cell).

    Parameters
    ----------
    case_dir
        The case folder.
    reveal
        Show identifiers in full (default: masked with pseudonyms).
    investigator
        Who reviews (default: the case's investigator).

    Returns
    -------
    ReviewPanel
        The panel over the case's unreviewed suspicious lookups.

    """
    from kit.case.case import case_data

    found = case_data(case_dir)
    return ReviewPanel(
        case_dir,
        found.assessment,
        found.dataset,
        masker=Masker(reveal=reveal),
        investigator=investigator,
    )
