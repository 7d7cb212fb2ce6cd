"""The detector's settings: physiology first, each number with its reason.

Sources are in ../shared/research/detector.md (tags A1-A15) and DESIGN.md. Times are in seconds
and amplitudes in the internal units (µV for EMG, g for acceleration); a design converts them to
samples once per sampling rate.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Every tunable of the detector. The defaults are the product's settings."""

    # --- EMG front end ---------------------------------------------------------------------
    #: sEMG band (SENIAM; De Luca 2010): below 20 Hz is motion artifact, above 450 Hz noise.
    emg_band_hz: tuple[float, float] = (20.0, 450.0)
    emg_filter_order: int = 4
    #: Frame for line-interference fits and noise statistics: 10 cycles of 50 Hz, 12 of 60 Hz.
    frame_s: float = 0.2
    #: Activity is judged on quarter frames, fine enough to place an exclusion's edges.
    subframes_per_frame: int = 4
    #: Mains and the harmonics tested (odd and even, up to the band edge).
    mains_hz: tuple[float, ...] = (50.0, 60.0)
    #: A harmonic is cancelled when its amplitude over the last 2 s exceeds this level and is
    #: coherent: this many times the spread of the frames' projections around it.
    line_min_uv: float = 1.0
    line_coherence: float = 2.0
    #: Robust noise floor: per frame the median RMS of its subframes, median over 1 s, then a
    #: tracker that follows drops at once and rises at most this factor per second (electrode
    #: settling, not activity).
    floor_rise_per_s: float = 1.05
    #: A wearable sEMG floor is 2-10 µV RMS (detector.md §2). Above this the muscle is not at rest
    #: (or the electrode is poor) and nothing there can be called an isolated twitch.
    noise_max_uv: float = 15.0
    #: Candidate potential: a peak of |x| above k robust sigmas (k = 4-5, detector.md §6), whose
    #: peak-to-peak (both phases of a bi/triphasic potential) exceeds p2p_k sigmas: a lone noise
    #: extreme has one large phase only.
    candidate_k: float = 5.0
    candidate_p2p_k: float = 7.5
    #: Weak tier: a peak from this many sigmas up to candidate_k is a candidate only when its
    #: shape matches (r, size ratio) one of the last weak_library confident candidates of the
    #: stream (a site's units repeat; noise this tall is separable only by shape).
    weak_candidate_k: float = 3.5
    weak_match_r: float = 0.9
    weak_amp_ratio: tuple[float, float] = (0.3, 1.5)
    weak_library: int = 32
    #: Refractory: one potential per 10 ms (its phases lie within it); doublets are >= 10 ms apart.
    refractory_s: float = 0.010
    #: A peak smaller than this fraction of a larger one within 50 ms is filter ringing.
    shadow_fraction: float = 0.15
    shadow_s: float = 0.050
    #: Shape: a fasciculation potential lasts ~5-20 ms (detector.md §2): 4 x the RMS width of
    #: its energy. At least 35 % of the energy within 15 ms lies within 5 ms of the peak (a
    #: potential, not the slow ringing of motion); 15 ms keeps most doublet partners outside.
    potential_duration_s: tuple[float, float] = (0.0015, 0.035)
    concentration_half_s: float = 0.015
    min_concentration: float = 0.35
    #: Surface FPs are tens of µV to ~1.5 mV (detector.md §2); a bigger fast deflection is an
    #: electrode event, and one under 10 µV peak-to-peak is smaller than any reported: on a
    #: research amplifier's 1 µV floor such a blip passes 5 sigmas now and then (real sEMG).
    potential_max_uv: float = 3000.0
    potential_min_uv: float = 10.0
    #: Half-width of the snippet kept for template matching (phases of one potential).
    template_half_s: float = 0.005

    # --- activity (isolation rule, voluntary, cramp) -------------------------------------------
    #: A 50 ms subframe is busy when its RMS exceeds this multiple of the noise floor.
    busy_k: float = 1.5
    #: Sleutjes 2016: a discharge is isolated when its neighbours are > 250 ms away; busy
    #: subframes closer than this belong to one run of activity.
    isolation_s: float = 0.25
    #: A run of activity this long is sustained (continual firing): voluntary or cramp.
    sustained_s: float = 0.5
    #: Sustained runs closer than this are one episode: a cramp's units pause up to ~0.4 s
    #: (6 pps, ISI CV 0.45, Minetto 2009).
    merge_s: float = 1.0
    #: Twitches this close to an excluded interval are not counted: its edges are uncertain.
    exclusion_pad_s: float = 0.25
    #: After continual firing ends, the last (smallest, lowest-threshold) units derecruit while
    #: the noise floor, raised by the contraction, comes back down: discharges this soon after
    #: are the contraction's, not twitches (1 s lost 3 % of post-contraction twitches in the
    #: active_hour scenario, 0.5 s keeps them and still removes the derecruitment tail).
    #: A discharge within this of the firing's end, or of such a discharge, is the tail's: the
    #: last unit's intervals grow past 250 ms before it stops.
    derecruitment_s: float = 0.5
    #: Cramp (Minetto 2009, A13): a few large units, 6-25 pps, 23.6 +- 16.2 s, firing
    #: irregularly (ISI CV 0.45). Shorter sustained activity is voluntary.
    cramp_min_s: float = 5.0
    #: Kurtosis of a few discharging units is high; an interference pattern is near-Gaussian (3).
    sparse_kurtosis: float = 3.3
    #: Its units, sorted by shape and size, fire at 6-25 pps (a little slack for sorting errors)
    #: with a robust SD of log intervals of at least this (gamma trains: ~CV; a cramp's 0.45,
    #: voluntary firing's 0.1-0.2, raised by discharges that overlap and are missed).
    cramp_unit_pps: tuple[float, float] = (5.0, 30.0)
    cramp_irregularity: float = 0.4
    #: Or its discharges are those of units seen fasciculating at rest at this site
    #: (cramp-fasciculation: the same hyperexcitable units), this share of them, once this many
    #: are known, in an episode this sparse (a faint real contraction of small potentials
    #: matches small templates by chance at kurtosis ~3.6).
    cramp_template_share: float = 0.5
    units_known: int = 8
    known_units_kurtosis: float = 6.0
    template_match_r: float = 0.85
    template_amp_ratio: tuple[float, float] = (0.6, 1.6)
    template_library: int = 64
    #: Tonic firing (trains.py): one unit's discharges at steady intervals in this range, at
    #: least train_min of them, with a spread of log intervals under train_regularity (a unit
    #: firing steadily: ~0.1-0.3; random fasciculation intervals: ~1). Shorter intervals are
    #: doublets (Kleine 2012: 10-110 ms) or continual firing the isolation rule already sees.
    #: Tonic firing lasts seconds: 6 discharges (2-3 s); 4 was met by chance when two look-alike
    #: units twitched close together (drift_rest scenario).
    train_isi_s: tuple[float, float] = (0.11, 0.6)
    train_min: int = 6
    train_regularity: float = 0.35
    #: Activity longer than this is reported in pieces so memory and latency stay bounded.
    max_episode_s: float = 600.0

    # --- EMG-only motion and electrode artifacts -------------------------------------------------
    #: Motion artifact lives below 20 Hz (De Luca 2010): a jolt is a change of course of the raw
    #: EMG's 50 ms mean (its second difference) by this much. Drift (0.05-0.3 Hz) is smooth:
    #: 400 µV at 0.3 Hz changes course by < 4 µV per 50 ms.
    #: Only where the band is quiet: in muscle activity the EMG alone cannot tell.
    emg_motion_step_uv: float = 12.0
    #: A step this large in 50 ms is an electrode pop, lead-off or saturation, not muscle.
    emg_artifact_step_uv: float = 400.0
    #: Lines this strong are a lead-off (an open input picks up mains).
    leadoff_line_uv: float = 200.0
    #: EMG this quiet in the band for 50 ms is flat, saturated or disconnected: amplifiers and
    #: electrodes always add some noise (< 1 µV for a research amplifier, detector.md §2).
    flat_rms_uv: float = 0.1
    #: A run of activity with an artifact in it is the artifact's (a pop's decay and the filters'
    #: ringing last up to ~2 s) when shorter than this, or when artifacts fill this share of it.
    #: Big needle MUAPs trip the step rule now and then inside real contractions (emgdb).
    artifact_run_s: float = 3.0
    artifact_share: float = 0.2

    # --- accelerometer ---------------------------------------------------------------------------
    #: Gravity and posture are below 0.3 Hz; movement is 0.3-20 Hz (detector.md §2), a visible
    #: twitch of 40-150 ms reaches ~25 Hz: a band to 20 Hz would shave the shortest ones' peak.
    acc_band_hz: tuple[float, float] = (0.3, 30.0)
    acc_filter_order: int = 2
    #: Limb motion: above this RMS of dynamic acceleration (tremor is 2-10 mg, a single unit's
    #: twitch 1-3 mg, Cescon 2004) for at least acc_motion_min_s.
    acc_motion_g: float = 0.012
    acc_motion_min_s: float = 0.4
    #: On accelerometer-only sites the twitches are in the same signal: a burst of 3-4 visible
    #: twitches spans up to ~1 s, so movement must last longer to be told from it.
    acc_only_motion_min_s: float = 1.2
    #: A cramp tilts the foot a few degrees and shakes it with its unfused tetanus: movement that
    #: stays under this (dynamic acceleration) during a cramp is the cramp's, not limb motion.
    cramp_tilt_g: float = 0.08
    #: Motion is excluded on every channel with this margin: tapered onsets reach the
    #: accelerometer threshold late.
    motion_pad_s: float = 0.5
    #: Accelerometer-only sites: a twitch is a short transient this many times the median |a| of
    #: the twitch band (~1.5 sigma of the noise per axis), and at least acc_twitch_min_g: visible
    #: twitches are a few to tens of mg; a single unit's 1-3 mg (Cescon 2004) is not claimed.
    acc_candidate_k: float = 4.5
    acc_twitch_min_g: float = 0.003

    # --- bookkeeping -----------------------------------------------------------------------------
    #: Samples are gathered to this much before they are processed: below ~0.5 s the fixed cost
    #: of each step's call dominates (50 ms chunks ran at 200x real time unbatched). Decisions
    #: wait for more than this anyway (isolation, merging, exclusion pads). 2 s: 50 ms chunks
    #: at ~1,200x real time instead of ~700x at 1 s, for at most 1 s more decision latency.
    batch_s: float = 2.0
    #: After a start or a gap the filters and the noise floor settle: not observed.
    warmup_s: float = 0.6
    #: A hole this short is bridged instead: filled for the filters only (intake.hole_filler), so
    #: only the hole itself is unobserved. A radio link loses a notification now and then: 1 ms
    #: of samples for a BITalino frame, ~55 ms for a DIY notification, ~0.4 s for a Polar
    #: accelerometer frame (81 samples at 208 Hz). Restarting with ``warmup_s`` at each cost a
    #: BITalino losing one frame in 500 most of its rest. Half a second is several times the
    #: filters' memory, and nothing is counted inside the hole either way.
    bridge_max_s: float = 0.5

    def __post_init__(self) -> None:
        low, high = self.emg_band_hz
        if not 0 < low < high:
            raise ValueError(f"emg_band_hz must be 0 < low < high, got {self.emg_band_hz}")
        if self.subframes_per_frame < 1 or self.frame_s <= 0:
            raise ValueError("frame_s must be > 0 and subframes_per_frame >= 1")
