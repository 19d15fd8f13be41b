"""The result reserve learns how long results take to sign and log."""

from __future__ import annotations

from hub.knownto.reserve import HEADROOM, WINDOW, ResultReserve


def test_the_configured_reserve_until_results_say_otherwise() -> None:
    reserve = ResultReserve(least=0.25)
    assert reserve.seconds() == 0.25
    for _ in range(WINDOW):
        reserve.observe(0.02)  # quick results never lower it below the least
    assert reserve.seconds() == 0.25


def test_slow_results_grow_the_reserve_and_it_shrinks_when_they_pass() -> None:
    reserve = ResultReserve(least=0.25)
    for _ in range(WINDOW):
        reserve.observe(0.4)
    assert reserve.seconds() == 0.4 * HEADROOM
    reserve.observe(3.0)  # one outlier in 32 is not the ninth decile
    assert reserve.seconds() == 0.4 * HEADROOM
    for _ in range(WINDOW):
        reserve.observe(0.05)
    assert reserve.seconds() == 0.25
