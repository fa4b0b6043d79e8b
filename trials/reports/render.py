"""A trial's report (``trials.reports.report``) written out as CSV, XLSX, Markdown or a
self-contained HTML page.

Text that users typed (trial, arm and creative names, notes) is data, never code: in CSV
and XLSX a text cell starting with = + - @ tab or carriage return is prefixed with an
apostrophe (OWASP's advice against formula injection) and XLSX is written with formulas
and URLs off; numbers stay numbers. In Markdown and HTML every text is escaped (in Markdown
bare addresses are kept from becoming links too). The HTML
report draws its charts as inline SVG and loads nothing from anywhere.
"""

from __future__ import annotations

import csv
import html
import io
import math
from typing import Any

from trials import APP_VERSION
from trials.reports.autolinks import break_autolinks
from trials.reports.report import Report, Table, arm_label, estimate

__all__ = ["FORMATS", "render", "safe_cell"]

FORMATS = ("csv", "xlsx", "md", "html")
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell as data: risky leading characters of text are neutralised; numbers kept."""
    if isinstance(value, str) and value.startswith(_RISKY):
        return "'" + value
    return value


def render(report: Report, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return {"csv": _csv, "xlsx": _xlsx, "md": _markdown, "html": _html}[fmt](report)


_METHODS = {"mcmc": "the full model (MCMC)", "exact": "the exact preview"}


def _title_lines(report: Report) -> list[str]:
    t = report.trial
    a = report.analysis
    return [
        f"Trial: {t.name}",
        f"{t.spec.start} to {t.spec.end}; decided on {t.spec.primary_metric.label}; "
        f"break-even ROAS {t.spec.break_even_roas:g}; currency {t.spec.currency}",
        f"Evidence: {_METHODS.get(a.get('method'), a.get('method'))} "
        f"({a.get('pooling')} pooling), data digest "
        f"{str(a.get('data_digest'))[:12]}, seed {a.get('seed')}",
        f"Made {report.created_at:%Y-%m-%d %H:%M} UTC by Channel Trials {APP_VERSION}",
    ]


# -- CSV ----------------------------------------------------------------------------------


def _csv(report: Report) -> bytes:
    """Each table under its title, separated by a blank line (UTF-8 with BOM for Excel)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in _title_lines(report):
        writer.writerow([safe_cell(line)])
    for table in report.tables:
        writer.writerow([])
        writer.writerow([safe_cell(table.title)])
        writer.writerow([safe_cell(c) for c in table.columns])
        kinds = [(table.formats or {}).get(c) for c in table.columns]
        for row in table.rows:
            writer.writerow(
                [
                    "" if v is None else safe_cell(_rounded(v, k))
                    for v, k in zip(row, kinds, strict=True)
                ]
            )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


CSV_DIGITS = {"percent": 5, "ratio": 3, "money": 2}  # shares to 0.001 %, ROAS to 0.001


def _rounded(value: Any, kind: str | None) -> Any:
    """A number to the precision its column deserves (a CSV has no number formats)."""
    if isinstance(value, float) and kind in CSV_DIGITS and math.isfinite(value):
        return round(value, CSV_DIGITS[kind])
    return value


# -- XLSX ---------------------------------------------------------------------------------


def _xlsx(report: Report) -> bytes:
    """An About sheet with the title lines, then one sheet per table."""
    import xlsxwriter

    buffer = io.BytesIO()
    # Strings are never read as formulas or links, whatever they start with.
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
    formats = {
        "money": book.add_format({"num_format": "#,##0.00"}),
        "percent": book.add_format({"num_format": "0.0%"}),
        "ratio": book.add_format({"num_format": "0.00"}),
        "int": book.add_format({"num_format": "#,##0"}),
    }
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    about = book.add_worksheet("About")
    for i, line in enumerate(_title_lines(report)):
        about.write_string(i, 0, safe_cell(line))
    about.set_column(0, 0, 110)
    for table in report.tables:
        _xlsx_sheet(book.add_worksheet(table.title[:31]), table, bold, wrap, formats)
    book.close()
    return buffer.getvalue()


def _xlsx_sheet(sheet, table: Table, bold, wrap, formats: dict[str, Any]) -> None:
    """One table on its sheet: a bold header, typed cells, widths to fit, a filter."""
    for c, name in enumerate(table.columns):
        sheet.write_string(0, c, name, bold)
    for r, row in enumerate(table.rows, start=1):
        for c, value in enumerate(row):
            kind = (table.formats or {}).get(table.columns[c])
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                sheet.write_blank(r, c, None)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value, formats.get(kind))
            else:
                sheet.write_string(r, c, safe_cell(str(value)), wrap)
    for c, name in enumerate(table.columns):
        longest = max([len(name), *(len(str(row[c] or "")) for row in table.rows)])
        sheet.set_column(c, c, min(max(10, longest + 2), 60))
    sheet.freeze_panes(1, 1)
    if table.rows:
        sheet.autofilter(0, 0, len(table.rows), len(table.columns) - 1)


# -- Markdown -----------------------------------------------------------------------------


def _fmt(value: Any, kind: str | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if kind == "percent" and isinstance(value, int | float):
        return f"{value:.1%}"
    if kind == "money" and isinstance(value, int | float):
        return f"{value:,.2f}"
    if kind == "ratio" and isinstance(value, int | float):
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _md_text(text: str) -> str:
    """Escaped for Markdown: HTML and Markdown characters show as themselves, and no
    renderer makes a link of a bare address (see ``trials.reports.autolinks``)."""
    out = html.escape(break_autolinks(str(text)), quote=False)
    for ch in "\\`*_{}[]()#+!|~":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ")


def _markdown(report: Report) -> bytes:
    lines = [f"# {_md_text(report.trial.name)}", ""]
    lines += [_md_text(line) + "  " for line in _title_lines(report)[1:]]
    if report.analysis.get("raw_vs_model"):
        lines += ["", _md_text(report.analysis["raw_vs_model"])]
    for table in report.tables:
        lines += ["", f"## {_md_text(table.title)}", ""]
        if not table.rows:
            lines.append("None yet.")
            continue
        lines.append("| " + " | ".join(_md_text(c) for c in table.columns) + " |")
        lines.append("|" + "|".join(" --- " for _ in table.columns) + "|")
        for row in table.rows:
            cells = [
                _md_text(_fmt(v, (table.formats or {}).get(c)))
                for c, v in zip(table.columns, row, strict=True)
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return ("\n".join(lines) + "\n").encode("utf-8")


# -- HTML ---------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC",sans-serif;
color:#1f2328;margin:2rem auto;max-width:1100px;padding:0 1rem}
h1{font-size:1.7rem;margin:.2rem 0}h2{font-size:1.2rem;margin:1.8rem 0 .6rem;
border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
.meta{color:#57606a}table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;white-space:nowrap}
svg{max-width:100%;height:auto}.chart{margin:.4rem 0 1rem}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}
table,svg{break-inside:avoid}}
"""


def _interval_svg(title: str, rows: list[tuple[str, float, float, float]], line=None) -> str:
    """An interval chart (dot: mean; bar: the HDI) as inline SVG."""
    rows = [r for r in rows if all(v is not None and math.isfinite(v) for v in r[1:])]
    if not rows:
        return ""
    lo = min([r[2] for r in rows] + ([line] if line else []))
    hi = max([r[3] for r in rows] + ([line] if line else []))
    span = (hi - lo) or 1.0
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    width, left, row_h = 900, 300, 28
    height = 40 + row_h * len(rows)

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (width - left - 20)

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(title)}"><text x="{left}" y="14" font-weight="bold">'
        f"{html.escape(title)}</text>"
    ]
    for i, (label, mean, low, high) in enumerate(rows):
        y = 34 + i * row_h
        parts.append(
            f'<text x="{left - 8}" y="{y + 4}" text-anchor="end">{html.escape(label)}</text>'
            f'<line x1="{x(low):.1f}" x2="{x(high):.1f}" y1="{y}" y2="{y}" stroke="#1f2328" '
            f'stroke-width="3"/><circle cx="{x(mean):.1f}" cy="{y}" r="5" fill="#2f6fde"/>'
        )
    if line is not None:
        parts.append(
            f'<line x1="{x(line):.1f}" x2="{x(line):.1f}" y1="22" y2="{height - 8}" '
            'stroke="#d62728" stroke-dasharray="6 4"/>'
        )
    for v in (lo + (hi - lo) * k / 4 for k in range(5)):
        parts.append(
            f'<text x="{x(v):.1f}" y="{height - 2}" text-anchor="middle" fill="#57606a" '
            f'font-size="11">{v:.3g}</text>'
        )
    return "".join(parts) + "</svg>"


def _html(report: Report) -> bytes:
    t = report.trial
    esc = html.escape
    body = [f"<h1>{esc(t.name)}</h1>"]
    body += [f'<p class="meta">{esc(line)}</p>' for line in _title_lines(report)[1:]]
    if t.spec.hypothesis:
        body.append(f"<p><b>Hypothesis:</b> {esc(t.spec.hypothesis)}</p>")
    if report.analysis.get("raw_vs_model"):
        body.append(f"<p>{esc(report.analysis['raw_vs_model'])}</p>")
    charts = _charts(report)
    for table in report.tables:
        body.append(f"<h2>{esc(table.title)}</h2>")
        if table.title == "Results":
            body += [c for c in charts if c]
        body.append(_html_table(table) if table.rows else "<p>None yet.</p>")
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        # No scripts, no remote anything: the report is safe to open and to print offline.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{esc(t.name)} · Channel Trials report</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )
    return page.encode("utf-8")


def _charts(report: Report) -> list[str]:
    """The interval charts shown with the results: ROAS (with break-even), CVR and CPA."""
    t = report.trial
    arms = report.analysis["arms"]
    width = f"{report.analysis.get('hdi_prob') or 0.94:.0%} HDI"
    charts = []
    for metric, title, line in (
        ("roas", f"ROAS ({width}); dashed: break-even", t.spec.break_even_roas),
        ("cvr", f"Conversion rate ({width})", None),
        ("cpa", f"CPA, {t.spec.currency} ({width})", None),
    ):
        rows = [
            (
                arm_label(a),
                estimate(a[metric]),
                estimate(a[metric], "hdi_low"),
                estimate(a[metric], "hdi_high"),
            )
            for a in arms
        ]
        charts.append(_interval_svg(title, rows, line))
    return charts


def _html_table(table: Table) -> str:
    """A table with its text escaped and its numbers right-aligned."""
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in table.columns)
    rows = []
    for row in table.rows:
        cells = []
        for c, v in zip(table.columns, row, strict=True):
            numeric = isinstance(v, int | float) and not isinstance(v, bool)
            text = esc(_fmt(v, (table.formats or {}).get(c)))
            cells.append(f'<td class="n">{text}</td>' if numeric else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
