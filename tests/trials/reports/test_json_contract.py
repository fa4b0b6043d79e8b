"""The public JSON contract: every field of every ``--json`` output, held against a snapshot.

The CLI's JSON field names are a product interface: add, never rename. Each command with
``--json`` is run once on a small scenario (the demo, a created trial, a channel export,
own orders, a UTM rule, an amendment, a decision, the portfolio and a trial's history, a
plan, a scale plan, accounts and workspaces) and the *shape* of its output — every key
path, with lists read as the union of their items — is compared with
``json_contract.json``. A field that goes missing fails here; a new field fails too, until
the snapshot is regenerated on purpose
(``UPDATE_JSON_CONTRACT=1 pytest tests/trials/reports``) and the change is reviewed in the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import ROOT
from tests.trials.cli.test_cli import TRIAL_JSON, run, write

SNAPSHOT = Path(__file__).with_name("json_contract.json")
FILES = ROOT / "tests" / "trials" / "files"
SEPT_TRIAL = TRIAL_JSON | {
    "name": "September social",
    "start": "2026-09-01",
    "end": "2026-09-28",
    "arms": [
        {"channel": "WeChat", "creative": "Video A", "control": True},
        {"channel": "Weibo", "creative": "Image B"},
    ],
}


def shape(value):
    """Key paths of a JSON value: dicts by key, lists as the union of their items."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        merged: dict | None = None
        scalar = False
        for item in value:
            if isinstance(item, dict | list):
                merged = _merge(merged, shape(item))
            else:
                scalar = True
        if merged is None:
            return ["value"] if scalar else []
        return [merged]
    return "value"


def _merge(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _merge(a.get(k), b.get(k)) for k in sorted(set(a) | set(b))}
    if isinstance(a, list) and isinstance(b, list):
        return [_merge(a[0] if a else None, b[0] if b else None)] if a or b else []
    return a if isinstance(a, dict | list) else b


def _json(capsys, *argv) -> object:
    code, out, err = run(capsys, *argv)
    assert out.strip(), f"{argv}: no output (exit {code}, {err})"
    return json.loads(out)


def contract_outputs(capsys, tmp_path) -> dict[str, object]:
    """Every ``--json`` output of the CLI on one small scenario."""
    outputs: dict[str, object] = {}
    outputs["demo"] = _json(capsys, "demo", "--json")
    outputs["list"] = _json(capsys, "list", "--json")
    demo = "WeChat vs Weibo launch"
    outputs["show"] = _json(capsys, "show", demo, "--json")
    outputs["analyze"] = _json(capsys, "analyze", demo, "--json", "--budget", "1000")
    outputs["analyze --method exact"] = _json(
        capsys, "analyze", demo, "--method", "exact", "--json"
    )
    outputs["analyze (no data)"] = _json(capsys, "analyze", "Xiaohongshu notes (planned)", "--json")
    outputs["decide"] = _json(
        capsys, "decide", demo, "--keep-testing", "WeChat/Moments video", "--note", "wait", "--json"
    )
    outputs["decisions"] = _json(capsys, "decisions", demo, "--json")
    outputs["priors --backtest"] = _json(capsys, "priors", "--json", "--backtest")
    outputs["priors --trial"] = _json(
        capsys,
        "priors",
        "--trial",
        demo,
        "--use-learned",
        "on",
        "--override",
        "WeChat/cvr=5%@200",
        "--json",
    )
    outputs["scale-plan"] = _json(
        capsys,
        "scale-plan",
        demo,
        "--arm",
        "WeChat/Moments video",
        "--start",
        outputs["show"]["start"],
        "--json",
    )
    outputs["portfolio"] = _json(capsys, "portfolio", "--json")
    outputs["portfolio --currency --rate"] = _json(
        capsys, "portfolio", "--currency", "CNY", "--rate", "USD=7.1", "--by", "week", "--json"
    )
    outputs["history"] = _json(capsys, "history", demo, "--json")
    outputs["plan"] = _json(
        capsys,
        "plan",
        "--baseline-cvr",
        "0.03",
        "--lift",
        "0.2",
        "--arms",
        "2",
        "--clicks-per-day",
        "400",
        "--cpc",
        "1.5",
        "--simulations",
        "60",
        "--json",
    )
    outputs["plan --goal-conversions"] = _json(
        capsys,
        "plan",
        "--goal-conversions",
        "60",
        "--by",
        "2026-12-21",
        "--from",
        "2026-11-23",
        "--trial",
        demo,
        "--channels",
        "WeChat",
        "Weibo",
        "Douyin",
        "--json",
    )
    name = SEPT_TRIAL["name"]
    outputs["create"] = _json(
        capsys, "create", "--from-file", write(tmp_path, "t.json", SEPT_TRIAL), "--json"
    )
    outputs["import"] = _json(
        capsys, "import", name, str(FILES / "google_ads_report.csv"), "--json"
    )
    outputs["orders"] = _json(
        capsys, "orders", name, str(FILES / "own_orders.csv"), "--accept-effect", "--json"
    )
    outputs["imports"] = _json(capsys, "imports", name, "--json")
    outputs["segments"] = _json(capsys, "segments", name, "--json")
    outputs["segments --by week"] = _json(capsys, "segments", name, "--by", "week", "--json")
    run(capsys, "utm", name, "--source", "newsletter", "--arm", "WeChat/Video A")
    outputs["utm"] = _json(capsys, "utm", name, "--json")
    outputs["reconcile"] = _json(capsys, "reconcile", name, "--json")
    outputs["amend"] = _json(capsys, "amend", name, "--min-days", "5", "--reason", "why", "--json")
    outputs["workspace add"] = _json(capsys, "workspace", "add", "Growth", "--json")
    outputs["user add"] = _json(capsys, "user", "add", "ann", "--email", "a@example.com", "--json")
    run(capsys, "workspace", "grant", "Growth", "ann", "--role", "viewer")
    outputs["user list"] = _json(capsys, "user", "list", "--json")
    outputs["workspace list"] = _json(capsys, "workspace", "list", "--json")
    outputs["workspace members"] = _json(capsys, "workspace", "members", "Growth", "--json")
    outputs["user log"] = _json(capsys, "user", "log", "--json")
    return outputs


def test_every_json_field_is_kept(capsys, tmp_path):
    shapes = {command: shape(out) for command, out in contract_outputs(capsys, tmp_path).items()}
    if os.environ.get("UPDATE_JSON_CONTRACT"):
        SNAPSHOT.write_text(json.dumps(shapes, indent=1, ensure_ascii=False) + "\n", "utf-8")
    expected = json.loads(SNAPSHOT.read_text("utf-8"))
    for command in expected:
        assert shapes.get(command) == expected[command], f"the JSON of `{command}` changed"
    assert set(shapes) == set(expected)


def test_shape_reads_lists_as_the_union_of_their_items():
    assert shape({"b": [{"x": 1}, {"y": None}], "a": [1, 2], "c": []}) == {
        "a": ["value"],
        "b": [{"x": "value", "y": "value"}],
        "c": [],
    }
