"""Live detection over the simulated BLE link: the same detections as offline, and a recording
that reads back with its annotations."""

from __future__ import annotations

import numpy as np
import pyedflib
import pytest

from edge.agent import Fanout
from edge.analyze import analyze_file
from edge.detect import SiteDetector
from edge.detection import Detection
from edge.recording import Recording
from edge.totals import Totals, format_totals
from twitchwatch.contract import Kind

pytest_plugins = ["tests.ble_fixtures"]


@pytest.mark.slow  # real time: seconds of streaming or waiting
async def test_live_detection_matches_offline_and_records_edf(sim_rig, tmp_path):
    rig = await sim_rig(("left_calf",), preset="large_muscle", speed=4.0)
    site_totals = Totals()
    detection = Detection(site_totals, Recording(tmp_path))
    for session in rig.sessions:
        session.sink = Fanout(rig.sink, detection)
    await rig.stream(9.0)  # ~34 s of signal at 4x pace
    detection.close()

    (totals,) = site_totals.sites()
    assert totals.site == "left_calf"
    assert detection.blocks_refused(rig.sessions[0].name) == 0
    assert totals.twitches > 10  # large_muscle: ~40 per minute of rest
    assert totals.rest_s > 20.0

    # Offline, in one go, on exactly the blocks the link delivered: the same count.
    device = rig.sessions[0].name
    infos = {kind: rig.sink.infos[(device, kind)] for kind in Kind}
    offline = SiteDetector("left_calf", emg_fs=infos[Kind.EMG].fs, acc_fs=infos[Kind.ACC].fs)
    for kind in Kind:
        for block in rig.sink.blocks[(device, kind)]:
            offline.feed(kind, block.start, block.data)
    found = offline.poll()
    found.extend(offline.finish())
    assert found.twitch_t_s.size == totals.twitches
    assert abs(found.rest_s - totals.rest_s) < 1e-6

    # The recording: one EDF+ file per sensor, the pinned labels, twitches as annotations.
    (path,) = list(tmp_path.glob("*.edf"))
    with pyedflib.EdfReader(str(path)) as reader:
        labels = reader.getSignalLabels()
        onsets, _, texts = reader.readAnnotations()
    assert labels == ["EMG l_calf", "ACC X l_calf", "ACC Y l_calf", "ACC Z l_calf"] or labels == [
        "EMG left_calf",
        "ACC X left_calf",
        "ACC Y left_calf",
        "ACC Z left_calf",
    ]
    twitch_notes = [t for t in texts if t.startswith("twitch")]
    assert len(twitch_notes) == totals.twitches
    assert np.allclose(
        np.sort([o for o, t in zip(onsets, texts, strict=True) if t.startswith("twitch")]),
        np.sort(found.twitch_t_s),
        atol=1e-3,
    )
    # ...and `analyze` on the recording finds the same twitches (within a quantisation step).
    doc = analyze_file(path)
    assert abs(doc["summary"]["left_calf"]["twitches"] - totals.twitches) <= 1
    assert format_totals(site_totals.sites())[1].startswith("left_calf")
