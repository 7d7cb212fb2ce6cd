"""The demo's closing words: what was raised, whether the story came true, and what to try next."""

from __future__ import annotations

from server.report import figures_dir
from twitchwatch.demo.run import DemoResult
from twitchwatch.demo.story import Story


def summary_lines(story: Story, result: DemoResult) -> list[str]:
    lines = [""]
    raised = result.raised
    if raised:
        lines.append("Alerts raised, in the order they arrived:")
        for event in raised:
            alert = event.alert
            lines.append(
                f"  {event.t:%a %d %b}  {alert.severity.value:<8}  {alert.rule.value}/{alert.scope}"
            )
    else:
        lines.append("No alert was raised.")
    missing = result.missing(story.expected)
    if missing:
        wanted = ", ".join(f"{m.rule.value}/{m.scope}" for m in missing)
        lines.append(f"Not raised in the order the story implies: {wanted}.")
    else:
        lines.append("These are the alerts the story implies, in its order.")
    simulated = sum(sum(d.simulated_twitches.values()) for d in result.days)
    detected = sum(sum(d.detected_twitches.values()) for d in result.days)
    worn = sum(1 for d in result.days if d.windows)
    lines.append(
        f"Past {len(story.days)} days ({worn} worn): the simulator made {simulated} twitches in the "
        f"daily rest recordings and the detector counted {detected}."
    )
    lines.append(
        f"Today: {result.live_windows} windows arrived live from the Bluetooth sensors. "
        "Only counts left the 'home', never raw signals."
    )
    if result.report is not None:
        html = result.report.html
        lines.append(
            f"The person's report, what they would take to a doctor: {html} (open it in a "
            f"browser; the figures are also in {figures_dir(html)}/)."
        )
    problems = result.screen.problems
    if problems:
        lines.append(f"{len(problems)} messages could not be read, e.g. {problems[0]}")
    lines += [
        "",
        "TwitchWatch reports measurements, not diagnoses. Next: `twitchwatch sim`, "
        "`twitchwatch edge run`, `twitchwatch server` and `twitchwatch alerts` (see the README).",
    ]
    return lines
