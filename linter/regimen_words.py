"""A profile regimen (`[regimens.<key>]`) in words, for messages that name the regimen a suggestion creates.

Rules state the regimen of the active profile, never a dose written in code: under the default profile AT104
says "start aspirin 81 mg daily", under btk-angioplasty-jp "start aspirin 100 mg daily".
"""

from __future__ import annotations

from typing import NamedTuple

from linter.messages import fmt, times_daily

_PER_DAY = {"h": 24.0, "d": 1.0, "wk": 1 / 7}


class Regimen(NamedTuple):
    short: str  # "aspirin 81 mg daily"
    spelled: str  # "aspirin 81 mg once daily"
    sig: str  # the profile's own text: "aspirin 81 mg by mouth once daily, indefinitely"


def regimen_words(
    drug: str, dose: float, unit_display: str, frequency: int, period: float, period_unit: str, sig: str
) -> Regimen:
    per_day = frequency / period * _PER_DAY[period_unit]
    spelled_frequency = times_daily(per_day)
    amount = f"{drug} {fmt(dose)} {unit_display}"
    short_frequency = "daily" if spelled_frequency == "once daily" else spelled_frequency
    return Regimen(f"{amount} {short_frequency}", f"{amount} {spelled_frequency}", sig)
