"""Render report blocks to Markdown and to self-contained, escaped HTML."""

from __future__ import annotations

import base64
import html
import math
import re
from dataclasses import dataclass, field

import pandas as pd

from benchmarks.results.guideline_table import format_lr
from report.figure_base import FigureFile


@dataclass(frozen=True)
class Heading:
    """A section heading (level 1-4)."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text (no markup; escaped on output)."""

    text: str


@dataclass(frozen=True)
class Bullets:
    """A bulleted list of plain-text items."""

    items: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Table:
    """A table; cells are formatted with :func:`cell_text` and escaped on output."""

    frame: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class Image:
    """A figure: linked from Markdown, embedded as base64 PNG in HTML."""

    figure: FigureFile


@dataclass(frozen=True)
class Code:
    """Preformatted text (a file shown as it is), escaped; folded away in HTML."""

    text: str
    summary: str = "show"


Block = Heading | Paragraph | Bullets | Table | Image | Code

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}
th,td{border:1px solid #bbb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eee} img{max-width:100%} figcaption{font-style:italic;color:#555}
pre{background:#f6f6f6;padding:0.6em;overflow-x:auto;font-size:0.85em}
"""


def cell_text(value: object) -> str:
    """Display text of one table cell: floats to 3 decimals, NaN/None as an em dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _md_escape(text: str) -> str:
    """Neutralise raw HTML and table pipes in Markdown while keeping '<1k' readable."""
    text = re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text.replace("&", "&amp;"))
    return text.replace("|", r"\|").replace("\n", " ")


def _md_table(frame: pd.DataFrame) -> list[str]:
    header = [_md_escape(str(c)) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_md_escape(cell_text(v)) for v in row) + " |")
    return lines


def _md_code(text: str) -> list[str]:
    """A fenced code block that ``text`` cannot close (CommonMark shows its HTML as text)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, text.rstrip("\n"), fence, ""]


def render_markdown(blocks: list[Block], figure_dir: str = "figures") -> str:
    """Markdown text of ``blocks``; figures are linked relative to the report file.

    Args:
        blocks: The report content.
        figure_dir: Folder of the figures, relative to the Markdown file.

    Returns:
        The Markdown document.
    """
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out += ["#" * block.level + " " + _md_escape(block.text), ""]
        elif isinstance(block, Paragraph):
            out += [_md_escape(block.text), ""]
        elif isinstance(block, Bullets):
            out += [f"- {_md_escape(item)}" for item in block.items] + [""]
        elif isinstance(block, Table):
            out += (_md_table(block.frame) if not block.frame.empty else ["(none)"]) + [""]
        elif isinstance(block, Code):
            out += _md_code(block.text)
        elif isinstance(block, Image):
            fig = block.figure
            out += [f"![{_md_escape(fig.caption)}]({figure_dir}/{fig.png.name})", "",
                    f"*{_md_escape(fig.caption)}* (SVG: `{figure_dir}/{fig.svg.name}`)", ""]
    return "\n".join(out)


def _esc(value: object) -> str:
    return html.escape(cell_text(value), quote=True)


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p>(none)</p>"
    head = "".join(f"<th>{_esc(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_image(fig: FigureFile) -> str:
    data = base64.b64encode(fig.png.read_bytes()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(fig.caption)}">'
            f"<figcaption>{_esc(fig.caption)}</figcaption></figure>")


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        level = min(max(block.level, 1), 6)
        return f"<h{level}>{_esc(block.text)}</h{level}>"
    if isinstance(block, Paragraph):
        return f"<p>{_esc(block.text)}</p>"
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_esc(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        return _html_table(block.frame)
    if isinstance(block, Code):
        return (f"<details><summary>{html.escape(block.summary)}</summary>"
                f"<pre>{html.escape(block.text)}</pre></details>")
    return _html_image(block.figure)


def render_html(blocks: list[Block], title: str) -> str:
    """A self-contained HTML page of ``blocks``, every text escaped, figures inlined.

    Args:
        blocks: The report content.
        title: Page title (escaped).

    Returns:
        The HTML document.
    """
    body = "\n".join(_html_block(b) for b in blocks)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{_esc(title)}</title><style>{_CSS}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")


def _accuracy_text(strategy: str, mean: float, low: float, high: float, n: int) -> str:
    if n == 0 or math.isnan(mean):
        return f"{strategy}: not run"
    return f"{strategy} {mean:.3f} [{low:.2f}, {high:.2f}] n={n}"


def _verdict_text(label: str, reason: str) -> str:
    return f"{label} ({reason})" if reason else label


def _lr_range_text(low: float, high: float) -> str:
    if math.isnan(low):
        return "—"
    return format_lr(low) if low == high else f"{format_lr(low)}..{format_lr(high)}"


def _guideline_row(r: pd.Series) -> dict[str, str]:
    same = r.best_strategy == r.guideline_strategy
    size = f"{r.n_train} (largest of {r.sizes_in_regime})" if r.sizes_in_regime > 1 else str(
        r.n_train)
    epochs = "—" if math.isnan(r.mean_best_epoch) else f"{r.mean_best_epoch:.1f} of {r.max_epochs}"
    params = f" ({r.best_params})" if isinstance(r.best_params, str) and r.best_params else ""
    return {
        "regime": r.regime, "n_train": size, "guideline strategy": r.guideline_strategy,
        "measured best (on validation)": f"{r.best_strategy}{params}",
        "its test acc (95% CI), macro F1": _accuracy_text(
            r.best_strategy, r.best_mean, r.best_ci_low, r.best_ci_high, r.best_n_seeds)
        + ("" if math.isnan(r.best_macro_f1) else f", F1 {r.best_macro_f1:.3f}"),
        "guideline strategy's test acc": "same as best" if same else _accuracy_text(
            r.guideline_strategy, r.guideline_mean, r.guideline_ci_low, r.guideline_ci_high,
            r.guideline_n_seeds),
        "difference, points (95% CI)": _difference_text(r),
        "effect (d_z)": "—" if math.isnan(r.effect_size) else f"{r.effect_size:.2f}",
        "p (Holm)": "—" if math.isnan(r.p_value) else f"{r.p_value:.3g} ({r.p_holm:.3g})",
        "strategy verdict": _verdict_text(r.strategy_verdict, r.strategy_reason),
        "guideline LR": r.guideline_lr,
        "measured good LR": _lr_range_text(r.good_lr_min, r.good_lr_max),
        "LR verdict": _verdict_text(r.lr_verdict, r.lr_reason),
        "guideline epochs": r.guideline_epochs, "epochs to best": epochs,
        "epochs verdict": _verdict_text(r.epochs_verdict, r.epochs_reason),
    }


def _difference_text(r: pd.Series) -> str:
    """Guideline strategy minus best, in accuracy points, with its interval."""
    if r.n_paired == 0 or math.isnan(r.diff_mean):
        return "—"
    mean, low, high = (100 * v for v in (r.diff_mean, r.diff_low, r.diff_high))
    return f"{mean:+.1f} [{low:+.1f}, {high:+.1f}] n={r.n_paired}"


def guideline_display(table: pd.DataFrame) -> pd.DataFrame:
    """Human-readable cells of :func:`report.guideline.compare_to_guideline` output.

    Args:
        table: One dataset's (and backbone's) rows of the comparison table.

    Returns:
        One string column per displayed column, same row order.
    """
    return pd.DataFrame([_guideline_row(r) for _, r in table.iterrows()])
