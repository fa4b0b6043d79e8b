"""A trial's report — results, recommendations, allocation, decision log — as CSV, XLSX,
Markdown or a self-contained HTML page.

Text that users typed (trial, arm and creative names, notes) is data, never code: in CSV
and XLSX a text cell starting with = + - @ tab or carriage return is prefixed with an
apostrophe (OWASP's advice against formula injection) and XLSX is written with formulas
and URLs off; numbers stay numbers. In Markdown and HTML every text is escaped. The HTML
report draws its charts as inline SVG and loads nothing from anywhere.
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trials import APP_VERSION
from trials.domain import Trial, UserError
from trials.domain.verdicts import DecisionEntry

__all__ = ["FORMATS", "Report", "build_report", "render", "safe_cell"]

FORMATS = ("csv", "xlsx", "md", "html")
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell as data: risky leading characters of text are neutralised; numbers kept."""
    if isinstance(value, str) and value.startswith(_RISKY):
        return "'" + value
    return value


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    formats: dict[str, str] | None = None  # column → "money", "percent", "ratio", "int"


@dataclass(frozen=True)
class Report:
    trial: Trial
    analysis: dict[str, Any]
    tables: tuple[Table, ...]
    created_at: datetime


def _m(metric: dict | None, key: str = "mean") -> float | None:
    return None if not metric else metric.get(key)


def build_report(trial: Trial, analysis: dict[str, Any], log: Sequence[DecisionEntry]) -> Report:
    """The report's tables from an ``analyze``-shaped result and the decision log; always
    the full model's (the exact preview is refused with UserError)."""
    if analysis.get("preview"):
        raise UserError("a report needs the full model, not the exact preview")
    arms = analysis["arms"]
    results = Table(
        "Results",
        (
            "Arm",
            "Impressions",
            "Clicks",
            "Conversions",
            "Spend",
            "Revenue",
            "CTR",
            "CTR low",
            "CTR high",
            "CVR",
            "CVR low",
            "CVR high",
            "ROAS",
            "ROAS low",
            "ROAS high",
            "CPA",
            "CPA low",
            "CPA high",
        ),
        tuple(
            (
                f"{a['channel']} · {a['creative']}",
                a["totals"]["impressions"],
                a["totals"]["clicks"],
                a["totals"]["conversions"],
                a["totals"]["spend"],
                a["totals"]["revenue"],
                *(
                    _m(a[m], k)
                    for m in ("ctr", "cvr", "roas", "cpa")
                    for k in ("mean", "hdi_low", "hdi_high")
                ),
            )
            for a in arms
        ),
        {
            "Spend": "money",
            "Revenue": "money",
            "Impressions": "int",
            "Clicks": "int",
            "Conversions": "int",
            **{c: "percent" for c in ("CTR", "CTR low", "CTR high", "CVR", "CVR low", "CVR high")},
            **{c: "ratio" for c in ("ROAS", "ROAS low", "ROAS high")},
            **{c: "money" for c in ("CPA", "CPA low", "CPA high")},
        },
    )
    recommendations = Table(
        "Recommendations",
        (
            "Arm",
            "Recommendation",
            "P(best)",
            "P(beat control)",
            "Expected loss",
            "Loss unit",
            "P(ROAS > break-even)",
            "Weakest stage",
            "Reason",
        ),
        tuple(
            (
                f"{a['channel']} · {a['creative']}",
                a.get("recommendation_label") or a.get("recommendation"),
                a.get("p_best"),
                a.get("p_beat_control"),
                a.get("expected_loss"),
                a.get("expected_loss_unit"),
                a.get("p_roas_above_break_even"),
                (a.get("weakest_stage") or {}).get("label"),
                a.get("reason"),
            )
            for a in arms
        ),
        {
            "P(best)": "percent",
            "P(beat control)": "percent",
            "P(ROAS > break-even)": "percent",
            "Expected loss": "ratio",
        },
    )
    tables = [_verdict_table(analysis), results, recommendations]
    allocation = analysis.get("allocation")
    if allocation:
        tables.append(
            Table(
                "Next round's budget",
                ("Arm", "Budget", "Today's split", "Expected revenue", "At most"),
                tuple(
                    (
                        f"{a['channel']} · {a['creative']}",
                        a["budget"],
                        a["current_budget"],
                        a["expected_revenue"],
                        a.get("cap"),
                    )
                    for a in allocation["arms"]
                )
                + tuple((note, None, None, None, None) for note in allocation.get("notes") or ()),
                {
                    "Budget": "money",
                    "Today's split": "money",
                    "Expected revenue": "money",
                    "At most": "money",
                },
            )
        )
    tables.append(
        Table(
            "Decision log",
            (
                "Entry",
                "When (UTC)",
                "By",
                "Scale",
                "Stop",
                "Fix",
                "Keep testing",
                "Budget change",
                "Note",
                "Corrects",
                "Data digest",
            ),
            tuple(
                (
                    e.id,
                    e.created_at.strftime("%Y-%m-%d %H:%M"),
                    e.created_by,
                    ", ".join(e.summary.get("scale", [])),
                    ", ".join(e.summary.get("stop", [])),
                    ", ".join(e.summary.get("fix", [])),
                    ", ".join(e.summary.get("keep_testing", [])),
                    e.summary.get("budget_change", ""),
                    e.note,
                    e.corrects,
                    str(e.snapshot.get("data_digest") or "")[:12],
                )
                for e in log
            ),
            {"Entry": "int", "Corrects": "int"},
        )
    )
    return Report(trial, analysis, tuple(tables), datetime.now(UTC))


def _verdict_table(analysis: dict[str, Any]) -> Table:
    """The trial's verdict, its reason, the data source, the rule and the progress: the
    same words the pages show."""
    decision = analysis.get("decision") or {}
    rule = decision.get("rule") or {}
    version = decision.get("rule_version") or 1
    rows = [
        ("Verdict", decision.get("verdict_label") or decision.get("verdict")),
        ("Why", decision.get("reason")),
        ("Data source", (analysis.get("source") or {}).get("sentence")),
    ]
    if rule:
        rows.append(
            (
                "Rule" + (f" (version {version})" if version > 1 else ""),
                f"at least {rule['min_days']} days and {rule['min_conversions_per_arm']} "
                f"conversions per arm; a winner at {rule['probability_threshold']:.0%} to be "
                f"best (guarded over arms and early looks); expected loss under "
                f"{rule['expected_loss_threshold']:.1%}; equal within "
                f"±{rule['equivalence_margin']:.0%}",
            )
        )
    rows += [("Amendment", a["sentence"]) for a in analysis.get("amendments") or ()]
    progress = decision.get("progress") or {}
    if decision.get("verdict") == "keep_testing" and progress.get("sentence"):
        rows.append(("Progress", progress["sentence"]))
    return Table("Verdict", ("Item", "Value"), tuple(rows))


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
        sheet = book.add_worksheet(table.title[:31])
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
    book.close()
    return buffer.getvalue()


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
    """Escaped for Markdown: HTML and Markdown characters show as themselves."""
    out = html.escape(str(text), quote=False)
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
    arms = report.analysis["arms"]
    charts = []
    width = f"{report.analysis.get('hdi_prob') or 0.94:.0%} HDI"
    for metric, title, line in (
        ("roas", f"ROAS ({width}); dashed: break-even", t.spec.break_even_roas),
        ("cvr", f"Conversion rate ({width})", None),
        ("cpa", f"CPA, {t.spec.currency} ({width})", None),
    ):
        rows = [
            (
                f"{a['channel']} · {a['creative']}",
                _m(a[metric]),
                _m(a[metric], "hdi_low"),
                _m(a[metric], "hdi_high"),
            )
            for a in arms
        ]
        charts.append(_interval_svg(title, rows, line))
    for table in report.tables:
        body.append(f"<h2>{esc(table.title)}</h2>")
        if table.title == "Results":
            body += [c for c in charts if c]
        if not table.rows:
            body.append("<p>None yet.</p>")
            continue
        head = "".join(f"<th>{esc(c)}</th>" for c in table.columns)
        rows = []
        for row in table.rows:
            cells = []
            for c, v in zip(table.columns, row, strict=True):
                numeric = isinstance(v, int | float) and not isinstance(v, bool)
                text = esc(_fmt(v, (table.formats or {}).get(c)))
                cells.append(f'<td class="n">{text}</td>' if numeric else f"<td>{text}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        # No scripts, no remote anything: the report is safe to open and to print offline.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{esc(t.name)} · Channel Trials report</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )
    return page.encode("utf-8")
