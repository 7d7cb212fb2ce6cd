"""What a person reads: calm, precise sentences built from a finding's evidence.

Each message says what was measured, which rule it meets, the likely benign factors seen around
it, and the advice level (contract.ADVICE). It never names a disease or offers a diagnosis: most
readers are healthy and anxious, and a home sensor cannot tell causes apart.

Everything a sentence states comes from ``evidence`` (plain JSON values), so a published message
can be traced to the numbers beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from server.model import Verdict
from twitchwatch.contract import ADVICE, Region, Rule, Severity, split_site

#: Regions in lay words (the evidence keeps the Awaji names).
_REGION_NAMES: dict[str, str] = {
    Region.BULBAR: "the head and throat",
    Region.CERVICAL: "the neck and arms",
    Region.THORACIC: "the chest and trunk",
    Region.LUMBOSACRAL: "the lower back and legs",
}
_LIMB_GROUP_NAMES = {
    "upper_arm": "upper arm",
    "forearm_hand": "forearm and hand",
    "thigh": "thigh",
    "leg_foot": "lower leg and foot",
}
_SYMPTOMS = {
    "speech": ("Difficulty speaking", "difficulty speaking"),
    "swallowing": ("Difficulty swallowing", "difficulty swallowing"),
    "breathing": ("Difficulty breathing", "difficulty breathing"),
}


def site_name(site: str) -> str:
    """``"right_upper_arm"`` -> ``"right upper arm"``."""
    side, place = split_site(site)
    words = place.replace("_", " ")
    return f"{side} {words}" if side else words


def region_name(region: str) -> str:
    return _REGION_NAMES.get(region, region)


def limb_group_name(group: str) -> str:
    """``"left_forearm_hand"`` -> ``"left forearm and hand"``."""
    side, _, rest = group.partition("_")
    return f"{side} {_LIMB_GROUP_NAMES.get(rest, rest.replace('_', ' '))}"


def period(days: int) -> str:
    """``28`` -> ``"the last 4 weeks"``; ``10`` -> ``"the last 10 days"``."""
    if days % 7 == 0 and days >= 14:
        return f"the last {days // 7} weeks"
    return "the last week" if days == 7 else f"the last {days} days"


def rate(per_min: float | None) -> str:
    if per_min is None:
        return "no"
    return f"{per_min:.1f}" if per_min >= 1 else f"{per_min:.2f}"


def _names(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _sites(sites: Sequence[str]) -> str:
    return _names([site_name(s) for s in sites])


def _regions(regions: Sequence[str]) -> str:
    # Semicolons: region names have "and" in them ("the neck and arms").
    return "; ".join(region_name(r) for r in regions)


def days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


# --- per rule: what was measured, and what the rule says about it ---------------------------------


def _persistence(verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
    site, window = site_name(ev["site"]), period(ev["window_days"])
    counted = (
        f"Twitching recorded at the {site} on {ev['active_days']} of the {ev['observed_days']} "
        f"days it was observed in {window} (median {rate(ev['median_rate_per_min'])} per minute "
        "of rest)."
    )
    match verdict:
        case Verdict.RAISE if severity is Severity.INFO:
            return counted + " Twitching there is common and usually settles by itself."
        case Verdict.RAISE:
            return counted + " Twitching that persists is common and usually benign."
        case Verdict.CLEAR:
            return (
                f"Twitching at the {site} was recorded on {ev['recent_active_days']} of the "
                f"{ev['recent_observed_days']} days it was observed in "
                f"{period(ev['recent_days'])}: it has settled."
            )
        case Verdict.NO_DATA:
            return (
                f"The {site} was observed on {days(ev['observed_days'])} in {window} (a day needs "
                f"{ev['min_rest_min']} minutes of rest): not enough to tell whether twitching persists."
            )
    return counted


def _worsening(verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
    site, days = site_name(ev["site"]), ev["period_days"]
    recent, earlier = ev["recent"], ev["earlier"]
    compared = (
        f"{rate(recent['rate_per_min'])} per minute of rest in {period(days)} against "
        f"{rate(earlier['rate_per_min'])} in the {days} days before"
    )
    match verdict:
        case Verdict.RAISE:
            return (
                f"The twitching rate at the {site} rose: {compared} "
                f"({recent['rest_h']:g} h and {earlier['rest_h']:g} h of rest observed). "
                f"A rise this large is unlikely to be chance (one-sided test, {p_value(ev['p_value'])})."
            )
        case Verdict.CLEAR:
            return f"The twitching rate at the {site} is no longer rising: {compared}."
        case Verdict.NO_DATA:
            return (
                f"Not enough observed rest at the {site} to compare {period(days)} with the "
                f"{days} days before ({recent['rest_h']:g} h and {earlier['rest_h']:g} h; each "
                f"needs {ev['min_rest_h']:g} h on {ev['min_observed_days']} days)."
            )
    return f"The twitching rate at the {site}: {compared}."


def _region_list(regions: Sequence[Mapping[str, Any]]) -> str:
    """In the order twitching began: "the lower back and legs (left calf, since …), then …"."""
    return ", then ".join(
        f"{region_name(r['region'])} ({_sites(r['sites'])}, since {r['first_active']})"
        for r in regions
    )


def p_value(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def _spread(verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
    regions = ev["regions"]
    match verdict:
        case Verdict.RAISE if ev["path"] == "new_region":
            new = ev["new_region"]
            return (
                f"Twitching started in a new body region, {region_name(new['region'])} "
                f"({_sites(new['sites'])}, since {new['first_active']}), after it had been "
                f"observed there without twitching on {new['baseline_observed_days']} days while "
                "other regions twitched. Twitching that spreads to new regions is a reason to "
                "have it checked."
            )
        case Verdict.RAISE:
            return (
                f"Twitching established in {len(regions)} body regions, in the order it began: "
                f"{_region_list(regions)}. Twitching in more than one region is a reason to "
                "have it checked."
            )
        case Verdict.CLEAR:
            return "Twitching is no longer recorded in more than one body region."
        case Verdict.NO_DATA:
            return "No sensor was observed long enough recently to compare body regions."
    lingering = ev["lingering_regions"]
    return (
        f"Twitching recorded in {len(lingering)} body regions ({_regions(lingering)}) has not "
        f"settled in all of them; it is established in {len(regions)} at the moment."
    )


def _widespread(verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
    groups, regions = ev["limb_groups"], ev["regions"]
    match verdict:
        case Verdict.RAISE:
            parts = []
            if len(groups) >= ev["min_limb_groups"]:
                names = "; ".join(limb_group_name(g) for g in groups)
                parts.append(f"{len(groups)} of the 8 limb muscle groups ({names})")
            if len(regions) >= ev["min_regions"]:
                parts.append(f"{len(regions)} body regions ({_regions(regions)})")
            return (
                f"Twitching established in {' and in '.join(parts)}. Twitching in many parts of "
                "the body is a reason to have it checked."
            )
        case Verdict.CLEAR:
            return "Twitching is no longer recorded in many parts of the body."
        case Verdict.NO_DATA:
            return (
                "No sensor was observed long enough recently to tell how widespread twitching is."
            )
    return (
        f"Twitching established in {len(groups)} limb muscle groups and {len(regions)} body "
        "regions."
    )


def _weakness(verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
    region = region_name(ev["region"])
    reports = ev["reports"]
    if not reports:
        return f"No weakness or wasting reported for {region} in {period(ev['window_days'])}."
    last = reports[-1]
    what = "Wasting" if last["kind"] == "atrophy" else "Weakness"
    where = f" at the {site_name(last['site'])}" if last["site"] else ""
    reported = f"{what} reported on {last['t'][:10]}{where}"
    match verdict:
        case Verdict.RAISE:
            return (
                f"{reported}, in {region}, where twitching was recorded on "
                f"{ev['active_days']} of the {ev['observed_days']} days it was observed in "
                f"{period(ev['established_days'])}. Twitching together with weakness or wasting "
                "is a reason to have it checked."
            )
        case Verdict.CLEAR:
            return f"No weakness or wasting reported for {region} in {period(ev['window_days'])}."
    return f"{reported}; twitching is not established in {region} at the moment."


def _red_flag(verdict: Verdict, severity: Severity, ev: Mapping[str, Any]) -> str:
    title, lower = _SYMPTOMS[ev["symptom"]]
    if verdict is Verdict.RAISE:
        text = (
            f"{title} reported on {ev['last_reported'][:10]}. It should be checked by a doctor "
            "whatever the twitching counts."
        )
        if ev["symptom"] == "breathing":
            text += " If breathing is hard right now, call your local emergency number."
        return text
    return f"No {lower} reported in {period(ev['window_days'])}."


_MEASURED: dict[Rule, Callable[[Verdict, Severity, Mapping[str, Any]], str]] = {
    Rule.PERSISTENCE: _persistence,
    Rule.SPREAD: _spread,
    Rule.WIDESPREAD: _widespread,
    Rule.WORSENING: _worsening,
    Rule.WEAKNESS: _weakness,
    Rule.RED_FLAG: _red_flag,
}


def message(
    rule: Rule,
    verdict: Verdict,
    severity: Severity,
    evidence: Mapping[str, Any],
    context: Sequence[str],
) -> str:
    """The message of a finding: measurement and rule, context, then the advice when it raises."""
    parts = [_MEASURED[rule](verdict, severity, evidence)]
    if context and verdict in (Verdict.RAISE, Verdict.HOLD):
        if rule is Rule.RED_FLAG:
            parts.append(
                f"Also recorded, though it does not explain this symptom: {'; '.join(context)}."
            )
        else:
            parts.append(f"Possibly related and usually harmless: {'; '.join(context)}.")
    if verdict is Verdict.RAISE:
        parts.append(ADVICE[severity])
    return " ".join(parts)
