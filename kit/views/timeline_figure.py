"""Plotly figures of an officer timeline (:func:`kit.views.timeline.officer_timeline`).

The figures are only built, never shown, and set no renderer: the notebook
decides how to display them. They read the timeline table only, whose text is
already masked.

Size: lookups are drawn with ``Scattergl`` (WebGL) once there are more than
:data:`GL_THRESHOLD` markers, which keeps a browser responsive with tens of
thousands of points. Duty is drawn as background bands built from merged
intervals (overlapping or touching shifts of the same kind become one band)
inside a single filled trace per kind, so the figure holds no per-shift
shapes at all.

Each figure is built as Plotly JSON data first (:func:`timeline_spec`,
:func:`heatmap_spec`: plain dicts, as a notebook stores a figure); the
``*_figure`` functions turn that into a ``plotly.graph_objects.Figure``,
which validates it. A report shows the data directly: building Plotly's
objects for 10,000 lookups costs a third of a second, most of it loading
Plotly's classes on first use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from kit.views._common import SEVERITIES
from kit.views._template import figure_spec, trace

__all__ = [
    "GL_THRESHOLD",
    "SEVERITY_COLOURS",
    "duty_heatmap",
    "heatmap_spec",
    "timeline_figure",
    "timeline_spec",
]

GL_THRESHOLD = 2000
"""Above this many lookup markers the figure uses ``Scattergl`` instead of ``Scatter``."""

SEVERITY_COLOURS: dict[str, str] = {
    "none": "#7f8c8d",
    "low": "#3498db",
    "medium": "#f39c12",
    "high": "#e74c3c",
    "critical": "#8e0000",
}

_BLUES = [[i / 8, colour] for i, colour in enumerate(plotly.colors.sequential.Blues)]
"""Plotly's ``Blues`` scale as its figures write it (plotly.js has a ``Blues`` of its own)."""

_LANE_ORDER = ("shift", "register", "lookup", "worklog", "ticket", "communication")

_WORDS: dict[str, dict[str, str]] = {
    "zh-TW": {
        "shift": "勤務",
        "register": "出入登記",
        "lookup": "查詢",
        "worklog": "工作紀錄",
        "ticket": "舉發",
        "communication": "通聯",
        "on_duty": "值勤時段",
        "off_duty": "排定休假",
        "out": "外出",
        "none": "無旗標",
        "low": "低",
        "medium": "中",
        "high": "高",
        "critical": "極高",
        "time": "時間",
        "system": "系統",
        "purpose": "用途",
        "subject": "查詢對象",
        "flags": "旗標",
        "explanations": "解釋",
        "detail": "內容",
        "source": "來源",
        "date": "日期",
        "hour": "時",
        "count": "查詢數",
        "off_duty_lookups": "非值勤時段之查詢",
        "timeline": "員警時間軸",
        "heatmap": "查詢時段與勤務",
    },
    "en": {
        "shift": "duty",
        "register": "register",
        "lookup": "lookups",
        "worklog": "work log",
        "ticket": "tickets",
        "communication": "communications",
        "on_duty": "on duty",
        "off_duty": "rostered off duty",
        "out": "out of station",
        "none": "no flag",
        "low": "low",
        "medium": "medium",
        "high": "high",
        "critical": "critical",
        "time": "time",
        "system": "system",
        "purpose": "purpose",
        "subject": "subject",
        "flags": "flags",
        "explanations": "explanations",
        "detail": "detail",
        "source": "source",
        "date": "date",
        "hour": "hour",
        "count": "lookups",
        "off_duty_lookups": "lookups off duty",
        "timeline": "Officer timeline",
        "heatmap": "Lookups by hour against duty",
    },
}


def _words(lang: str) -> dict[str, str]:
    return _WORDS.get(lang, _WORDS["zh-TW"])


def _local(times: pd.Series) -> np.ndarray:
    """Return naive local time text (Plotly date axes ignore offsets)."""
    return times.dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)


def merge_intervals(starts: pd.Series, ends: pd.Series) -> pd.DataFrame:
    """Return the union of intervals ``[start, end)`` as sorted, disjoint intervals.

    Touching or overlapping intervals become one (vectorised: a running
    maximum of the ends marks where a new interval begins).
    """
    frame = pd.DataFrame({"start": starts.to_numpy(), "end": ends.to_numpy()}).dropna()
    if frame.empty:
        return frame
    frame = frame.sort_values(["start", "end"], kind="stable").reset_index(drop=True)
    reach = frame["end"].cummax().shift()
    group = (frame["start"] > reach).cumsum()
    return (
        frame.groupby(group, sort=True)
        .agg(start=("start", "min"), end=("end", "max"))
        .reset_index(drop=True)
    )


def _rectangles(intervals: pd.DataFrame, y0: float, y1: float) -> tuple[np.ndarray, np.ndarray]:
    """Return x, y of closed rectangles separated by gaps, for one filled trace."""
    n = len(intervals)
    xs = np.empty((n, 6), dtype=object)
    ys = np.empty((n, 6), dtype=object)
    start, end = _local(intervals["start"]), _local(intervals["end"])
    xs[:, 0], xs[:, 1], xs[:, 2], xs[:, 3], xs[:, 4], xs[:, 5] = start, start, end, end, start, None
    ys[:, :] = np.array([y0, y1, y1, y0, y0, None], dtype=object)
    return xs.ravel(), ys.ravel()


def _segments(
    rows: pd.DataFrame, y: float, hover: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return x, y, hover text of horizontal segments separated by gaps."""
    n = len(rows)
    xs = np.empty((n, 3), dtype=object)
    ys = np.empty((n, 3), dtype=object)
    hs = np.empty((n, 3), dtype=object)
    xs[:, 0], xs[:, 1], xs[:, 2] = _local(rows["time"]), _local(rows["end"]), None
    ys[:, 0], ys[:, 1], ys[:, 2] = y, y, None
    texts = hover.to_numpy(dtype=object)
    hs[:, 0], hs[:, 1], hs[:, 2] = texts, texts, None
    return xs.ravel(), ys.ravel(), hs.ravel()


def _hover(rows: pd.DataFrame, words: dict[str, str], fields: tuple[str, ...]) -> pd.Series:
    """Return the masked hover text of interval segments (shifts, register)."""
    label = rows["label"].astype("string")
    stamp = rows["time"].dt.strftime("%Y-%m-%d %H:%M:%S").astype("string")
    out = words["time"] + ": " + stamp + ("<br>" + label).fillna("")
    for field in fields:
        name = words.get(field, field)
        out = out + ("<br>" + name + ": " + rows[field].astype("string")).fillna("")
    source = rows["source_file"].astype("string") + ":" + rows["source_line"].astype("string")
    return (out + ("<br>" + words["source"] + ": " + source).fillna("")).astype("string")


def _custom(
    rows: pd.DataFrame, words: dict[str, str], fields: tuple[str, ...]
) -> tuple[np.ndarray, str]:
    """Return (customdata, hovertemplate) for markers: field names written once per trace.

    Lines with an empty value show the name with nothing after it, which
    keeps the figure small (a label per point would be repeated 10,000 times).
    """
    source = (
        rows["source_file"].astype("string") + ":" + rows["source_line"].astype("string")
    ).fillna("")
    columns = [rows["label"].astype("string").fillna("")]
    columns += [rows[f].astype("string").fillna("") for f in fields]
    columns.append(source)
    data = np.column_stack([c.to_numpy(dtype=object) for c in columns])
    lines = ["%{x}", "%{customdata[0]}"]
    lines += [f"{words.get(f, f)}: %{{customdata[{i + 1}]}}" for i, f in enumerate(fields)]
    lines.append(f"{words['source']}: %{{customdata[{len(fields) + 1}]}}")
    return data, "<br>".join(lines) + "<extra></extra>"


def _closed_ends(timeline: pd.DataFrame) -> pd.Series:
    """Register intervals without a return time run to the last time of the timeline."""
    last = timeline[["time", "end"]].max().max()
    return timeline["end"].fillna(last)


def timeline_figure(timeline: pd.DataFrame, *, lang: str = "zh-TW") -> go.Figure:
    """Build the timeline figure (:func:`timeline_spec` as a Plotly figure)."""
    return go.Figure(timeline_spec(timeline, lang=lang))


def timeline_spec(timeline: pd.DataFrame, *, lang: str = "zh-TW") -> dict[str, Any]:
    """Build the timeline figure's data: duty bands, register intervals, lookups and communications.

    Parameters
    ----------
    timeline
        The table of :func:`kit.views.timeline.officer_timeline` (already masked).
    lang
        ``zh-TW`` (default) or ``en`` for lane names, legend and hover labels.

    Returns
    -------
    dict
        Plotly JSON data (``data`` and ``layout``): one lane per source
        (duty at the top, communications at the bottom) on a date axis with
        a range slider; on-duty and rostered-off shifts as background bands;
        lookups coloured by severity with masked hover text; ``scattergl``
        when there are more than :data:`GL_THRESHOLD` lookups.

    """
    words = _words(lang)
    lanes = list(_LANE_ORDER)
    ypos = {lane: float(len(lanes) - 1 - i) for i, lane in enumerate(lanes)}
    traces: list[dict[str, Any]] = []
    top, bottom = len(lanes) - 0.5, -0.5
    timeline = timeline.assign(end=_closed_ends(timeline)) if not timeline.empty else timeline

    shifts = timeline[timeline["lane"] == "shift"]
    on = shifts["on_duty"].fillna(False).astype(bool)
    for key, chosen, colour in (
        ("on_duty", shifts[on], "rgba(46, 204, 113, 0.18)"),
        ("off_duty", shifts[~on], "rgba(149, 165, 166, 0.22)"),
    ):
        if chosen.empty:
            continue
        bands = merge_intervals(chosen["time"], chosen["end"])
        xs, ys = _rectangles(bands, bottom, top)
        traces.append(
            trace(
                "scatter",
                x=xs,
                y=ys,
                mode="lines",
                fill="toself",
                fillcolor=colour,
                line={"width": 0},
                hoverinfo="skip",
                name=words[key],
                legendgroup=key,
            )
        )
        xs, ys, hs = _segments(chosen, ypos["shift"], _hover(chosen, words, ("detail",)))
        traces.append(
            trace(
                "scatter",
                x=xs,
                y=ys,
                hovertext=hs,
                hoverinfo="text",
                mode="lines",
                line={"width": 10, "color": colour.replace("0.18", "0.9").replace("0.22", "0.9")},
                name=words[key],
                legendgroup=key,
                showlegend=False,
            )
        )

    register = timeline[timeline["lane"] == "register"]
    if not register.empty:
        xs, ys, hs = _segments(register, ypos["register"], _hover(register, words, ("detail",)))
        traces.append(
            trace(
                "scatter",
                x=xs,
                y=ys,
                hovertext=hs,
                hoverinfo="text",
                mode="lines",
                line={"width": 8, "color": "#8e44ad"},
                name=words["out"],
            )
        )

    lookups = timeline[timeline["lane"] == "lookup"]
    scatter = "scattergl" if len(lookups) > GL_THRESHOLD else "scatter"
    hover_fields = ("system", "purpose", "subject", "flags", "explanations")
    for severity in SEVERITIES:
        chosen = lookups[lookups["severity"].fillna("none") == severity]
        if chosen.empty:
            continue
        custom, template = _custom(chosen, words, hover_fields)
        traces.append(
            trace(
                scatter,
                x=_local(chosen["time"]),
                y=np.full(len(chosen), ypos["lookup"]),
                mode="markers",
                marker={
                    "color": SEVERITY_COLOURS[severity],
                    "size": 6 if severity == "none" else 9,
                    "symbol": "circle" if severity in ("none", "low") else "diamond",
                },
                customdata=custom,
                hovertemplate=template,
                name=f"{words['lookup']}: {words[severity]}",
            )
        )

    marker_lanes: tuple[tuple[str, str | None, str], ...] = (
        ("worklog", "#16a085", "square"),
        ("ticket", "#2c3e50", "triangle-up"),
        ("communication", None, "star"),
    )
    for lane, fixed, symbol in marker_lanes:
        rows = timeline[timeline["lane"] == lane]
        if rows.empty:
            continue
        colours = (
            rows["severity"].fillna("none").map(SEVERITY_COLOURS).to_numpy(dtype=object)
            if fixed is None
            else fixed
        )
        fields = (
            ("subject", "flags", "detail") if lane == "communication" else ("subject", "detail")
        )
        custom, template = _custom(rows, words, fields)
        traces.append(
            trace(
                scatter,
                x=_local(rows["time"]),
                y=np.full(len(rows), ypos[lane]),
                mode="markers",
                marker={"color": colours, "size": 9, "symbol": symbol},
                customdata=custom,
                hovertemplate=template,
                name=words[lane],
            )
        )

    layout = {
        "title": {"text": words["timeline"]},
        "hovermode": "closest",
        "showlegend": True,
        "legend": {"orientation": "h", "y": -0.35},
        "margin": {"l": 90, "r": 20, "t": 50, "b": 40},
        "height": 520,
        "plot_bgcolor": "white",
        "xaxis": {
            "type": "date",
            "rangeslider": {"visible": True},
            "showgrid": True,
            "gridcolor": "#eee",
        },
        "yaxis": {
            "tickvals": [ypos[lane] for lane in lanes],
            "ticktext": [words[lane] for lane in lanes],
            "range": [bottom, top],
            "fixedrange": True,
            "zeroline": False,
        },
    }
    return figure_spec(traces, layout)


def duty_hours(timeline: pd.DataFrame) -> pd.DataFrame:
    """Return the (date, hour) cells an on-duty shift of the timeline touches."""
    shifts = timeline[(timeline["lane"] == "shift") & timeline["on_duty"].fillna(False)]
    if shifts.empty:
        return pd.DataFrame({"date": pd.Series([], dtype="object"), "hour": []})
    first = shifts["time"].dt.floor("h")
    last = shifts["end"] - pd.Timedelta(microseconds=1)
    spans = ((last.dt.floor("h") - first) // pd.Timedelta(hours=1)).astype(int) + 1
    repeated = first.repeat(spans.to_numpy())
    offsets = np.concatenate([np.arange(n) for n in spans.to_numpy()])
    hours = repeated + pd.to_timedelta(offsets, unit="h")
    cells = pd.DataFrame({"date": hours.dt.date.to_numpy(), "hour": hours.dt.hour.to_numpy()})
    return cells.drop_duplicates().reset_index(drop=True)


def duty_heatmap(timeline: pd.DataFrame, *, lang: str = "zh-TW") -> go.Figure:
    """Build the duty heatmap (:func:`heatmap_spec` as a Plotly figure)."""
    return go.Figure(heatmap_spec(timeline, lang=lang))


def heatmap_spec(timeline: pd.DataFrame, *, lang: str = "zh-TW") -> dict[str, Any]:
    """Build the heatmap of lookups per hour of day and date, with off-duty cells marked.

    Parameters
    ----------
    timeline
        The table of :func:`kit.views.timeline.officer_timeline`.
    lang
        ``zh-TW`` (default) or ``en``.

    Returns
    -------
    dict
        Plotly JSON data: hours 0–23 by date, cells counting lookups; every cell holding
        lookups while no on-duty shift covers that hour is marked with an
        ``x`` (the ``OFF_DUTY`` picture at a glance).

    """
    words = _words(lang)
    lookups = timeline[timeline["lane"] == "lookup"]
    if lookups.empty:
        return figure_spec([], {"title": {"text": words["heatmap"]}})
    local = lookups["time"]
    counts = pd.DataFrame({"date": local.dt.date.to_numpy(), "hour": local.dt.hour.to_numpy()})
    counts = counts.groupby(["date", "hour"]).size().rename("count").reset_index()
    days = pd.date_range(min(counts["date"]), max(counts["date"]), freq="D").date
    grid = (
        counts.pivot(index="hour", columns="date", values="count")
        .reindex(index=range(24), columns=days)
        .fillna(0)
        .astype(int)
    )
    on = duty_hours(timeline).assign(on=True)
    marked = counts.merge(on, on=["date", "hour"], how="left")
    marked = marked[marked["on"].isna()]
    dates_text = [d.isoformat() for d in days]
    traces = [
        trace(
            "heatmap",
            z=grid.to_numpy(),
            x=dates_text,
            y=list(range(24)),
            colorscale=_BLUES,
            colorbar={"title": {"text": words["count"]}},
            hovertemplate=f"{words['date']} %{{x}}<br>{words['hour']} %{{y}}"
            f"<br>{words['count']} %{{z}}<extra></extra>",
            name=words["count"],
        )
    ]
    if not marked.empty:
        traces.append(
            trace(
                "scatter",
                x=[d.isoformat() for d in marked["date"]],
                y=marked["hour"].to_numpy(),
                mode="markers",
                marker={"symbol": "x", "color": "#e74c3c", "size": 8},
                name=words["off_duty_lookups"],
                hovertemplate=f"{words['off_duty_lookups']}: %{{x}} %{{y}}<extra></extra>",
            )
        )
    layout = {
        "title": {"text": words["heatmap"]},
        "xaxis": {"title": {"text": words["date"]}, "type": "category"},
        "yaxis": {"title": {"text": words["hour"]}, "autorange": "reversed", "dtick": 1},
        "plot_bgcolor": "white",
        "height": 520,
    }
    return figure_spec(traces, layout)
