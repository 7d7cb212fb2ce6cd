"""Peer baselines: what a user would reach for instead of TwitchWatch, used as a twitch counter.

NeuroKit2 is an optional dependency (the ``bench`` extra) and is imported only when used.
"""

from __future__ import annotations

import warnings

import numpy as np

#: NeuroKit2 cleans with a 100 Hz high-pass, so it needs a Nyquist frequency above that.
_NEUROKIT_MIN_FS_HZ = 200.0
#: NeuroKit2's emg_activation keeps an onset only after >= 50 ms of rest followed by >= 50 ms
#: of activity (``duration_min`` default), so a signal shorter than this has no onset.
_NEUROKIT_MIN_DURATION_S = 0.1


def neurokit_onsets_s(emg_uv: np.ndarray, fs: float) -> np.ndarray:
    """Twitch times as NeuroKit2 would report them: the onsets of its EMG activity.

    Calls exactly ``neurokit2.emg_process(emg_uv, sampling_rate=fs)`` with every default (in
    0.2.13: ``emg_clean`` method "biosppy", ``emg_amplitude``, ``emg_activation`` method
    "threshold") and returns ``flatnonzero(signals["EMG_Onsets"]) / fs``.

    Parameters
    ----------
    emg_uv : (n,) array of float
        One EMG channel in µV. Must be finite.
    fs : float
        Sampling rate in Hz, above 200 (NeuroKit2 high-passes at 100 Hz).

    Returns
    -------
    onsets_s : (k,) array of float64
        Onset times in seconds from sample 0, sorted. Empty when NeuroKit2 finds no activity.

    Notes
    -----
    What NeuroKit2 0.2.13 does, and why it is a baseline rather than a streaming detector:

    - Not streaming: the activation threshold is 0.1 × the standard deviation of the whole
      recording's amplitude, so one event's detection depends on everything else recorded,
      and the count swings with event rate and signal-to-noise ratio.
    - Cleaning uses ``scipy.signal.filtfilt`` (4th-order 100 Hz Butterworth high-pass, forward
      and backward), which is non-causal.
    - ``emg_amplitude`` takes no sampling rate: its band-pass (10–400 Hz) and 8 Hz envelope are
      designed for 1000 Hz, so at 2000 Hz they act at 20–800 Hz and 16 Hz.
    - Activity shorter than 50 ms is dropped, and an onset needs 50 ms of rest before it.
    - ``emg_activation`` walks every sample with ``DataFrame.loc``. Measured on the
      development machine (NeuroKit2 0.2.13, pandas 2.3): ``emg_process`` on 60 s at 2 kHz
      takes about 1.0 s of one core, 0.95 s of it in ``emg_activation`` (cleaning and
      amplitude take under 15 ms), so it grows to about 1 min per hour of one 2 kHz channel.

    No activity: NeuroKit2 0.2.13 does not raise; it warns ``NeuroKitWarning("No events
    found...")`` (silenced here, inside ``warnings.catch_warnings``) and marks no onset, so the
    result is simply empty. It raises ``ValueError`` only on inputs shorter than about 24
    samples (filtfilt's padlen; "threshold exceeds the maximum of the signal amplitude"), which
    share their type with genuine errors and could be told apart only by message text; signals
    shorter than 0.1 s return empty here without calling NeuroKit2, since they cannot hold an
    onset, and nothing is caught.
    """
    try:
        import neurokit2 as nk
    except ImportError as exc:
        raise RuntimeError(
            "the NeuroKit2 baseline needs neurokit2: pip install -e '.[bench]'"
        ) from exc

    x = np.asarray(emg_uv, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"emg_uv must be one channel, shape (n,), got {x.shape}")
    if not np.all(np.isfinite(x)):
        # NeuroKit2 would forward-fill NaN (inventing samples); refuse instead.
        raise ValueError("emg_uv must be finite; split the recording at gaps instead")
    if not (np.isfinite(fs) and fs > _NEUROKIT_MIN_FS_HZ):
        raise ValueError(
            f"fs must be above {_NEUROKIT_MIN_FS_HZ:g} Hz for NeuroKit2's 100 Hz high-pass, got {fs!r}"
        )
    if x.size < _NEUROKIT_MIN_DURATION_S * fs:
        return np.empty(0, dtype=np.float64)

    with warnings.catch_warnings():
        # NeuroKitWarning for "No events found", plus pandas/numpy chatter from its internals.
        warnings.simplefilter("ignore")
        signals, _info = nk.emg_process(x, sampling_rate=fs)
    onsets = np.flatnonzero(signals["EMG_Onsets"].to_numpy())
    return onsets / fs
