"""Issue 6, drill 6: the bad-input fuzz, short enough for CI (the long run: benchmarks/fuzz.py).

Random sequences of text, commands, button presses (real, mutated, someone else's, random), files and
contacts from people in every role, against the real core on a copy of one prepared database. After
every step: no unhandled error, every update answered, and a refusal changes no business table
(tests/fuzzing.py says exactly what is checked and how).
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings

from tests import fuzzing

CI = settings(derandomize=True, database=None, deadline=None, max_examples=60, print_blob=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@CI
@given(fuzzing.steps)
def test_random_input_from_everyone_is_answered_and_refusals_change_nothing(items: list[tuple[Any, ...]]) -> None:
    asyncio.run(fuzzing.run_steps(fuzzing.world(), items))
