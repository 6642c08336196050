"""Exporting an executed notebook as an offline HTML report.

nbconvert renders the notebook with the kit's template
(``templates/kit_report``): no code, no prompts, no require.js, MathJax,
Mermaid or widget-manager scripts. :func:`offline_html` then makes the page
safe to open anywhere, whatever an output carried:

- every ``<script src=…>`` pointing outside the file is removed (Plotly's
  HTML output asks for MathJax from a CDN);
- plotly.js is kept exactly once (the first copy; later copies are removed);
- random element ids (Plotly's UUID ``div`` ids) become ``kit-id-1``,
  ``kit-id-2``… in order of appearance, so two runs give the same page;

and :func:`external_references` checks that nothing in the page would still
load from the network.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from kit.errors import BundleError

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
"""The repository's ``templates/`` folder (the export template lives there)."""

TEMPLATE_NAME = "kit_report"

PLOTLY_MARKER = "* plotly.js v"
"""Text found once in the header comment of the plotly.js bundle."""

_PLOTLYJS_STAND_IN = (
    f"/*{PLOTLY_MARKER}: the plotly.js bundle, put back once the page is checked */"
)

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_EXTERNAL_SRC = re.compile(
    r"""<script\b[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE | re.DOTALL
)
_LOADING_TAG = re.compile(
    r"""<(?:script|img|link|iframe|source|video|audio|embed|object|input)\b[^>]*?"""
    r"""\b(?:src|href|data|srcset|poster)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""",
    re.IGNORECASE | re.DOTALL,
)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?((?:https?:)?//[^"')\s]+)""")
_CSS_URL = re.compile(r"""url\(\s*["']?((?:https?:)?//[^"')\s]+)""", re.IGNORECASE)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_UUID_MIDDLE = re.compile(r"-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-")
"""What every UUID holds: a page without it has none (found 20x faster: it starts with ``-``)."""

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; "
    "worker-src blob:; connect-src 'none'; form-action 'none'; base-uri 'none'"
)
"""Set on every report: the browser refuses any network request the page might make."""


def _scripts_kept(html: str) -> str:
    """Remove every script loaded from outside the file and every plotly.js after the first."""
    seen = False

    def keep(match: re.Match[str]) -> str:
        nonlocal seen
        block = match.group(0)
        if _EXTERNAL_SRC.match(block):
            return ""
        if PLOTLY_MARKER not in block:
            return block
        if seen:
            return ""
        seen = True
        return block

    return _SCRIPT.sub(keep, html)


def _stable_ids(html: str) -> str:
    if _UUID_MIDDLE.search(html) is None:
        return html
    numbers: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        found = match.group(0)
        if found not in numbers:
            numbers[found] = f"kit-id-{len(numbers) + 1}"
        return numbers[found]

    return _UUID.sub(renumber, html)


def _add_security_policy(html: str) -> str:
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
    return html.replace("<head>", "<head>\n" + meta, 1)


def plotly_bundle_count(html: str) -> int:
    """Return how many copies of plotly.js the page holds."""
    return html.count(PLOTLY_MARKER)


def external_references(html: str) -> list[str]:
    """Return every URL the page would load from outside the file (should be none).

    Looks at the tags that load something by themselves (scripts, images,
    style sheets, frames, media) and at CSS ``@import`` and ``url()``; the
    text of the plotly.js bundle itself (which names URLs it never loads in
    a report) is skipped.
    """
    without_bundle = _SCRIPT.sub(
        lambda m: "<script></script>" if PLOTLY_MARKER in m.group(0) else m.group(0), html
    )
    found = [m.group(1) for m in _LOADING_TAG.finditer(without_bundle)]
    found += [m.group(1) for m in _CSS_IMPORT.finditer(without_bundle)]
    found += [m.group(1) for m in _CSS_URL.finditer(without_bundle)]
    return sorted(set(found))


def offline_html(html: str) -> str:
    """Return the page made offline and deterministic (see the module docstring).

    Raises
    ------
    BundleError
        Something in the page would still load from the network.

    """
    page = _add_security_policy(_stable_ids(_scripts_kept(html)))
    external = external_references(page)
    if external:
        raise BundleError(
            f"the report would load {len(external)} external resource(s), "
            f"e.g. {external[0]}: the export template must remove them"
        )
    return page


_EXPORTER_LOCK = threading.Lock()
_EXPORTER: list[Any] = []
"""The one exporter of this process, built on first use (:func:`_exporter`)."""


def _exporter() -> Any:
    """Return this process's report exporter, built on first use (thread-safe).

    Building it loads and compiles the template (a quarter of a second); a
    process that exports several reports builds it once.
    """
    with _EXPORTER_LOCK:
        if not _EXPORTER:
            _EXPORTER.append(_build_exporter())
        return _EXPORTER[0]


def _build_exporter() -> Any:
    """Return nbconvert's HTML exporter set up for the report, without its final re-parse.

    ``HTMLExporter.from_notebook_node`` renders the template and then re-parses
    the whole page with BeautifulSoup to add ``alt`` text to images and
    ``tabindex`` to cells, which takes most of the export time for a page that
    carries plotly.js. The report has no images and no input cells, so the
    template's output is used as it is.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(  # type: ignore[override]
            self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any
        ) -> tuple[str, dict[str, Any]]:
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name", None))
            self.register_filter(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
            )
            resources = self._init_resources(resources)
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources
                ),
            )
            body, out = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return str(body), out

    return ReportExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def render_figures(notebook: Any) -> int:
    """Turn every report figure of an executed notebook into its HTML, in place; return how many.

    A report figure is an output carrying Plotly's mimetype and the kit's
    figure metadata (:class:`kit.bundle.report.FigureOutput`); its data
    becomes the figure's ``text/html`` alone (:func:`kit.bundle.report.figure_html`),
    which the template shows. Other outputs are left as they are.
    """
    from nbformat import NotebookNode

    from kit.bundle.report import FIGURE_METADATA, PLOTLY_MIMETYPE, figure_html

    rendered = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            figure = output.get("metadata", {}).get(FIGURE_METADATA)
            data = output.get("data", {})
            if figure is None or PLOTLY_MIMETYPE not in data:
                continue
            page = figure_html(
                data[PLOTLY_MIMETYPE],
                div_id=str(figure["div_id"]),
                plotlyjs=bool(figure["plotlyjs"]),
            )
            output["data"] = NotebookNode({"text/html": page})
            rendered += 1
    return rendered


def export_notebook(notebook: Any, html_path: Path) -> Path:
    """Render an executed notebook (in memory) as the offline report ``html_path``.

    The notebook's report figures are rendered in place (:func:`render_figures`):
    write the notebook before exporting it.

    Parameters
    ----------
    notebook
        The executed notebook, an ``nbformat`` node.
    html_path
        Where the page is written (UTF-8).

    Returns
    -------
    Path
        ``html_path``.

    """
    from kit.bundle.report import plotly_js

    render_figures(notebook)
    body, _resources = _exporter().from_notebook_node(notebook)
    # plotly.js is 40 % of the page and needs none of offline_html's passes:
    # they run on the page with a stand-in for it (a script block that carries
    # the marker, so later copies are still removed), which is then swapped back.
    plotlyjs = plotly_js()
    page = offline_html(body.replace(plotlyjs, _PLOTLYJS_STAND_IN, 1))
    html_path.write_text(page.replace(_PLOTLYJS_STAND_IN, plotlyjs, 1), encoding="utf-8")
    return html_path


def export_html(notebook: Path, html_path: Path) -> Path:
    """Render an executed notebook file as the offline report ``html_path``.

    Parameters
    ----------
    notebook
        The executed notebook (``notebook.ipynb`` of a bundle).
    html_path
        Where the page is written (UTF-8).

    Returns
    -------
    Path
        ``html_path``.

    """
    import nbformat

    return export_notebook(nbformat.read(notebook, as_version=4), html_path)
