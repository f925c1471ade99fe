"""benchmarks/speed.py: the spread of the rounds' own ratios, the rate past the workers' start-up."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "speed.py"


def _speed():
    spec = importlib.util.spec_from_file_location("speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_round_ratios_compare_tools_within_each_round():
    # The best rates (12 and 3) come from different rounds; each round's own ratio is 5, 3 and 4.
    turns = [{"winnow": 10.0, "peer": 2.0}, {"winnow": 9.0, "peer": 3.0}, {"winnow": 12.0, "peer": 3.0}]
    assert _speed().round_ratios(turns, "winnow", "peer") == "3.00x / 4.00x / 5.00x"


def test_rate_past_the_start_up_leaves_the_start_up_out():
    # 3 s of start-up, then 100 pages/s: 1,000 pages in 13 s, 400 in 7 s.
    assert _speed().past_start_up(1000, 13.0, 400, 7.0) == 100.0
    assert _speed().past_start_up(400, 7.0, 400, 7.0) is None and _speed().past_start_up(1000, 6.0, 400, 7.0) is None
