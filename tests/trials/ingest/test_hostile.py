"""Real-size hostile uploads, built in a temporary folder and each read in a child process
through the public reader, as the app reads an upload (the file's bytes in memory): every
one is refused with a short message, its peak memory (the child's ru_maxrss) under 300 MB,
and three read at once stay under 1 GB together. Times are printed, never asserted
(speed belongs to bench/).

Slow tier: building the files inflates about 2.4 GB through zlib.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.trials.ingest.workbooks import HOSTILE, file_size, write_hostile

pytestmark = pytest.mark.slow

MB = 1024 * 1024
PEAK_LIMIT_MB = 300
THREE_LIMIT_MB = 1024

# The reader, as a child: reads the file's bytes, then reads them as a daily results file
# for a trial, and prints how that ended and how long it took.
READER = textwrap.dedent(
    """
    import json, os, sys, time
    from datetime import date, datetime
    from pathlib import Path

    from trials.domain import ArmSpec, PrimaryMetric, Trial, TrialSpec, UserError
    from trials.ingest.daily import read_daily_file

    path = Path(sys.argv[1])
    data = path.read_bytes()
    if os.environ.get("ONLY_LOAD"):  # what holding the upload costs, for comparison
        print(json.dumps({"refused": False, "seconds": 0}))
        sys.exit(0)
    spec = TrialSpec(
        name="t", hypothesis="", primary_metric=PrimaryMetric.ROAS, break_even_roas=2.0,
        currency="CNY", start=date(2026, 9, 1), end=date(2026, 9, 28), budget=1000.0,
        arms=(ArmSpec("WeChat", "Video A", control=True), ArmSpec("Weibo", "Image B")),
    )
    now = datetime(2026, 8, 1)
    trial = Trial(1, spec, (), now, "t", now, "t")
    start = time.perf_counter()
    try:
        reading = read_daily_file(data, path.name, trial)
        outcome = {"refused": False, "errors": [str(e) for e in reading.errors[:3]]}
    except UserError as e:
        outcome = {"refused": True, "message": str(e)}
    outcome["seconds"] = round(time.perf_counter() - start, 2)
    print(json.dumps(outcome))
    """
)

# Runs the readers it is given at once, each a child of its own, and prints each one's
# outcome and peak memory: os.wait4 gives a child's own rusage, and RUSAGE_CHILDREN the
# largest of them once all are waited for.
DRIVER = textwrap.dedent(
    """
    import json, os, resource, subprocess, sys, tempfile

    children = []
    for path in sys.argv[2:]:
        out = tempfile.TemporaryFile()
        process = subprocess.Popen([sys.executable, "-c", sys.argv[1], path], stdout=out)
        children.append((path, process.pid, out))
    results = {}
    for path, pid, out in children:
        _, status, usage = os.wait4(pid, 0)
        out.seek(0)
        text = out.read().decode()
        results[path] = {
            "status": status,
            "peak_mb": usage.ru_maxrss / 1024,
            "outcome": json.loads(text) if text.strip() else None,
        }
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"results": results, "largest_child_mb": largest}))
    """
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {name: write_hostile(folder, name) for name in HOSTILE}


def read_in_children(*paths: Path, only_load: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), ONLY_LOAD="1" if only_load else "")
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, READER, *map(str, paths)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        timeout=600,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_hostile_upload_is_refused_in_bounded_memory(hostile, name):
    path = hostile[name]
    run = read_in_children(path)
    [result] = run["results"].values()
    outcome = result["outcome"]
    print(
        f"\n{name}: {file_size(path):.1f} MB file, refused in {outcome['seconds']} s, "
        f"peak {result['peak_mb']:.0f} MB: {outcome.get('message', '')[:160]}"
    )
    assert result["status"] == 0
    assert outcome["refused"], outcome
    assert outcome["message"].startswith(f"{name}: ") or outcome["message"].startswith(f"{name}, ")
    assert len(outcome["message"]) < 400
    assert result["peak_mb"] < PEAK_LIMIT_MB
    assert run["largest_child_mb"] == pytest.approx(result["peak_mb"])


def test_a_text_file_is_not_held_twice(hostile):
    # The child holds the upload's bytes, as the app does; reading them adds far less
    # than a second copy (the text decoded whole, or split into lines first, would).
    path = hostile["short_lines.csv"]
    [loaded] = read_in_children(path, only_load=True)["results"].values()
    [read] = read_in_children(path)["results"].values()
    added = read["peak_mb"] - loaded["peak_mb"]
    print(
        f"\nshort_lines.csv: {loaded['peak_mb']:.0f} MB holding it, {added:.0f} MB more to read it"
    )
    assert read["outcome"]["refused"] and added < file_size(path) / 2


def test_three_hostile_uploads_at_once_stay_under_a_gigabyte(hostile):
    paths = [hostile[n] for n in ("huge_string.xlsx", "many_cells.xlsx", "short_lines.csv")]
    run = read_in_children(*paths)
    peaks = {Path(p).name: r["peak_mb"] for p, r in run["results"].items()}
    seconds = {Path(p).name: r["outcome"]["seconds"] for p, r in run["results"].items()}
    print(f"\nthree at once: peaks {peaks} MB (sum {sum(peaks.values()):.0f}), seconds {seconds}")
    assert all(r["outcome"]["refused"] for r in run["results"].values())
    assert all(peak < PEAK_LIMIT_MB for peak in peaks.values())
    assert sum(peaks.values()) < THREE_LIMIT_MB
