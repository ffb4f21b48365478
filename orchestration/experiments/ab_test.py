"""The ranking A/B decision: does the challenger beat the champion, by the stated margin, with
significance? Pure statistics over the per-variant rows of the ``ab_variant_metrics`` mart.

* Primary metric: the order rate (orders per recommendation list). The challenger wins when the
  lower end of the two-sided 95 % interval of (challenger − champion) is above ``margin``
  (an absolute difference; equivalently a one-sided two-proportion z-test of
  H0: diff ≤ margin at α = 0.025, unpooled standard error).
* Guardrail: satisfaction must not be significantly lower (Welch's t-test, two-sided 95 %).
* Enough data: each arm needs ``min_lists`` lists; with fewer the decision is "inconclusive",
  never a promotion.
CTR and price-to-balance differences are reported with their tests too (z and Welch), for the record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from scipy import stats

from infra.vocabulary import CHALLENGER, CHAMPION

Z95 = 1.959963984540054
DEFAULT_MARGIN = 0.01  # one percentage point of order rate
DEFAULT_MIN_LISTS = 200


@dataclass(frozen=True)
class Comparison:
    metric: str
    test: str
    champion: float | None
    challenger: float | None
    diff: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None


@dataclass
class Decision:
    outcome: str  # "promote" | "keep" | "inconclusive"
    reason: str
    margin: float
    min_lists: int
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    arms: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["comparisons"] = {k: asdict(v) for k, v in self.comparisons.items()}
        return out


def two_proportions(name: str, x_a: int, n_a: int, x_b: int, n_b: int, margin: float = 0.0) -> Comparison:
    """B − A for proportions: unpooled z interval, and the p-value of H0: diff ≤ margin (one-sided)."""
    if not n_a or not n_b:
        return Comparison(name, "two-proportion z", None, None, None, None, None, None)
    pa, pb = x_a / n_a, x_b / n_b
    se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    diff = pb - pa
    if se == 0:
        p = 0.0 if diff > margin else 1.0
    else:
        p = float(stats.norm.sf((diff - margin) / se))
    return Comparison(name, "two-proportion z (unpooled), one-sided vs margin", pa, pb, diff,
                      diff - Z95 * se, diff + Z95 * se, p)


def welch(name: str, mean_a: float | None, sd_a: float | None, n_a: int, mean_b: float | None, sd_b: float | None,
          n_b: int) -> Comparison:
    """B − A for means from summary statistics: Welch's t interval and two-sided p-value."""
    if mean_a is None or mean_b is None or n_a < 2 or n_b < 2 or sd_a is None or sd_b is None:
        return Comparison(name, "Welch t", mean_a, mean_b, None, None, None, None)
    va, vb = sd_a ** 2 / n_a, sd_b ** 2 / n_b
    se = math.sqrt(va + vb)
    diff = mean_b - mean_a
    if se == 0:
        return Comparison(name, "Welch t", mean_a, mean_b, diff, diff, diff, 0.0 if diff else 1.0)
    df = (va + vb) ** 2 / ((va ** 2) / (n_a - 1) + (vb ** 2) / (n_b - 1))
    t = stats.t.ppf(0.975, df)
    p = float(2 * stats.t.sf(abs(diff / se), df))
    return Comparison(name, "Welch t, two-sided", mean_a, mean_b, diff, diff - t * se, diff + t * se, p)


def _f(row: Mapping[str, Any], key: str) -> float | None:
    v = row.get(key)
    return None if v is None else float(v)


def decide(rows: Mapping[str, Mapping[str, Any]], *, margin: float = DEFAULT_MARGIN,
           min_lists: int = DEFAULT_MIN_LISTS, champion: str = CHAMPION, challenger: str = CHALLENGER) -> Decision:
    """Promote, keep, or inconclusive, from the mart's rows keyed by variant."""
    a, b = rows.get(champion), rows.get(challenger)
    if a is None or b is None:
        missing = champion if a is None else challenger
        return Decision("inconclusive", f"no lists served by the {missing}", margin, min_lists,
                        arms={k: dict(v) for k, v in rows.items()})
    comps = {
        "order_rate": two_proportions("order_rate", int(a["orders"]), int(a["lists"]), int(b["orders"]),
                                      int(b["lists"]), margin),
        "ctr": two_proportions("ctr", int(a["views"]), int(a["impressions"]), int(b["views"]), int(b["impressions"])),
        "satisfaction": welch("satisfaction", _f(a, "satisfaction_mean"), _f(a, "satisfaction_sd"),
                              int(a["satisfaction_n"] or 0), _f(b, "satisfaction_mean"), _f(b, "satisfaction_sd"),
                              int(b["satisfaction_n"] or 0)),
        "price_to_balance": welch("price_to_balance", _f(a, "price_to_balance_mean"), _f(a, "price_to_balance_sd"),
                                  int(a["price_to_balance_n"] or 0), _f(b, "price_to_balance_mean"),
                                  _f(b, "price_to_balance_sd"), int(b["price_to_balance_n"] or 0)),
    }
    arms = {champion: dict(a), challenger: dict(b)}
    if int(a["lists"]) < min_lists or int(b["lists"]) < min_lists:
        return Decision("inconclusive", f"fewer than {min_lists} lists in an arm ({a['lists']} / {b['lists']})",
                        margin, min_lists, comps, arms)
    primary, sat = comps["order_rate"], comps["satisfaction"]
    if sat.ci_high is not None and sat.ci_high < 0:
        return Decision("keep", f"satisfaction significantly lower ({sat.diff:+.3f}, 95% CI [{sat.ci_low:.3f}, "
                        f"{sat.ci_high:.3f}], {sat.test})", margin, min_lists, comps, arms)
    if primary.ci_low is not None and primary.ci_low > margin:
        return Decision("promote", f"order rate {primary.challenger:.4f} vs {primary.champion:.4f}: "
                        f"{primary.diff:+.4f}, 95% CI [{primary.ci_low:.4f}, {primary.ci_high:.4f}] above the "
                        f"margin {margin} (p={primary.p_value:.2g}, {primary.test})", margin, min_lists, comps, arms)
    return Decision("keep", f"order rate {primary.challenger:.4f} vs {primary.champion:.4f}: {primary.diff:+.4f}, "
                    f"95% CI [{primary.ci_low:.4f}, {primary.ci_high:.4f}] not above the margin {margin} "
                    f"(p={primary.p_value:.2g}, {primary.test})", margin, min_lists, comps, arms)
