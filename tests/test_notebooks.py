"""Execute every notebook with papermill in its FAST setting, and check its figures.

Each notebook runs in a fresh kernel with notebooks/ as working directory (see
ttlib.course.execute) and records its key figures in OUTPUT_DIR/results.json;
two run at a time, in the two `LANES`, each in order, in the background from the session's start while
the other tests run (see `notebook_lanes` and conftest's `notebook_runs`);
EXPECTED below says which figures each notebook must record and their tolerances.
The notebooks' data folders are pointed at the session's temporary `generated` folder
(tests never write into the repository).
"""
import json
import re

import numpy as np
import pytest
from notebook_lanes import LANES, NOTEBOOKS, data_folders

from ttlib.experiments import learned_encoder as experiment


def _within(low, high):
    return lambda value: low <= value <= high


WHOLE = "relations between the recorded figures"

# notebook stem -> {figure: predicate}; every notebook must have an entry. The WHOLE
# key's predicate gets all the recorded figures, for checks that relate several.
EXPECTED = {
    "00_check_your_setup": {
        "all_ok": lambda v: v is True,
        "checks_passed": lambda v: v == 8,
        "crepe_error_cents": lambda v: set(v) == {"tiny", "full"} and all(abs(x) <= 10 for x in v.values()),
        "ddsp_peak_hz": _within(438.0, 442.0),
        "training_losses": lambda v: len(v) == 2 and all(0 < x < 100 for x in v),
    },
    "01_sound_and_harmonics": {
        "trumpet_f0_hz": _within(150.0, 1200.0),
        "harmonic_deviation_cents": _within(0.0, 10.0),          # the peaks sit on k·f0
        "n_harmonics_found": lambda v: v >= 8,
        # more harmonics rebuild the spectrum better; frozen amplitudes are worse than evolving ones
        "lsd_all_harmonics_db": _within(1.0, 12.0),
        "lsd_1_harmonic_db": _within(5.0, 30.0),
        "lsd_frozen_db": _within(1.0, 14.0),
        "residual_energy_fraction": _within(0.001, 0.3),
        "dft_max_difference": _within(0.0, 1e-9),               # the DFT by hand is np.fft.rfft
        "alias_difference": _within(0.0, 1e-9),                 # 9 kHz sampled at 16 kHz is -(7 kHz)
        "alias_fold_error_hz": _within(0.0, 31.25),             # a sweep's peaks fold at 8 kHz (one bin)
        "additive_vs_ddsp": _within(0.0, 0.02),                 # the additive model by hand is ddsp's oscillator bank
        "chord_full_f0_hz": _within(125.0, 137.0),              # a C major chord tracked as one f0: C3
        "chord_full_voiced": _within(0.2, 0.95),
        "brightness_slope_gain": _within(-0.05, 0.01),          # CC11 is a gain: no brightening within a note
        # more harmonics rebuild better; a steeper tilt is darker; true dynamics and a real trumpet (when
        # present) brighten
        WHOLE: lambda r: r["lsd_all_harmonics_db"] < r["lsd_1_harmonic_db"] - 3.0
        and r["explorer_centroid_tilted"] < r["explorer_centroid_measured"]
        and r["brightness_slope_builtin"] > r["brightness_slope_gain"] + 0.005
        and ("brightness_slope_real" not in r or r["brightness_slope_real"] > r["brightness_slope_gain"] + 0.02),
    },
    "02_pitch_yin": {
        "my_yin_vs_librosa_cents": _within(0.0, 5.0),
        "my_yin_vs_library_cents": _within(0.0, 0.5),
        "octave_error_ratio": _within(0.48, 0.52),              # the low threshold halves f0
        "no_octave_error_ratio": _within(0.98, 1.02),
        "yin_rpa_trumpet": _within(0.9, 1.0),
        "pyin_rpa_trumpet": _within(0.9, 1.0),
        "yin_rpa_trumpet_0db": _within(0.0, 0.8),                # noise hurts
        "yin_rpa_whistle": _within(0.6, 1.0),
        "pyin_rpa_whistle": _within(0.5, 1.0),
        "high_note_error_cents_16k": _within(-1300.0, -1100.0),  # an octave low at 16 kHz
        "high_note_error_cents_48k": _within(-20.0, 20.0),       # right at 48 kHz
        "low_note_hz_fixed": _within(49.0, 51.0),
        "high_note_first_dip_lag": lambda v: v == 13,             # 2.5 kHz: d' first dips below 0.1 near 2T
        "interp_d_vs_dprime_cents": _within(-5.0, 5.0),           # parabola on d or on d': nearly the same
    },
    "03_pitch_crepe": {
        "parameters": lambda v: v["tiny"] < v["small"] < v["medium"] < v["large"] < v["full"],
        "capacities": lambda v: {"tiny", "small"} <= set(v) and all(r["raw_pitch_accuracy"] > 0.9 for r in v.values()),
        "crepe_tiny_rpa_trumpet": _within(0.9, 1.0),
        "yin_rpa_trumpet": _within(0.9, 1.0),
        "whistle_above_ceiling_rpa_plain": _within(0.0, 0.3),    # CREPE fails above ~2 kHz ...
        "whistle_above_ceiling_rpa_octave_down": _within(0.85, 1.0),  # ... and an octave down fixes it
        "crepe_tiny_rpa_whistle": _within(0.85, 1.0),
        "yin_rpa_whistle": _within(0.5, 1.0),
        "bin_map_max_diff_cents": _within(0.0, 1e-6),            # c_i = 20 i + 1997.38 cents, by hand = crepe's
        "local_average_max_diff_cents": _within(0.0, 1e-6),      # the local weighted average by hand = crepe's
        "target_readout_max_err_cents": _within(0.0, 0.1),       # the Gaussian target read back
        "viterbi_logprob_diff": _within(0.0, 1e-6),              # Viterbi by hand = hmmlearn's best path
        "viterbi_agreement": _within(0.9, 1.0),
        "viterbi_octave_moves": _within(6, 8),                   # an octave leap takes >= 6 frames (11 bins each)
        "crepe_highest_answer_hz": _within(1950.0, 2005.5),      # answers stop below the top bin
    },
    "04_differentiable_dsp": {
        "harmonic_peak_hz": _within(218.0, 222.0),             # the glide starts at 220 Hz
        "harmonics_below_nyquist": lambda v: v == 18,          # 18 x 440 Hz < 8 kHz < 19 x 440 Hz
        "reverb_t60_s": _within(1.1, 1.3),                     # designed 1.2 s, read back from the decay curve
        "reverb_t60_hand_vs_library_rel": _within(0.0, 0.03),  # ttlib.audio.room.measure_room agrees
        "multiscale_by_hand_rel_diff": _within(0.0, 1e-4),     # the sum of the terms is ddsp's SpectralLoss
        "waveform_loss_phase_shift": _within(0.1, 0.4),
        "waveform_loss_pitch_change": _within(0.1, 0.4),
        "spectral_loss_phase_shift": _within(0.5, 4.0),
        "spectral_loss_pitch_change": _within(6.0, 20.0),
        "phase_shift_loss_by_fft_size": lambda v: v["64"] > 2 * v["2048"],   # only short windows hear phase
        "fit_steps": lambda v: v >= 20,
        "fit_loss_first": _within(10.0, 30.0),
        "fit_loss_last": _within(1.0, 10.0),
        "harmonic_distribution_correlation": _within(0.9, 1.0),
        "harmonic_by_hand_max_diff": _within(0.0, 1e-3),       # the paper's harmonic synthesizer by hand = ddsp's
        "noise_ir_by_hand_max_diff": _within(0.0, 1e-5),       # the noise filter's impulse response by hand
        "noise_filter_by_hand_max_diff": _within(0.0, 1e-4),   # ... and the filtered noise
        "noise_spectrum_error_db": _within(0.0, 1.0),          # the output spectrum follows the magnitudes
        "exp_sigmoid_by_hand_rel_diff": _within(0.0, 1e-4),
        "knob_tilt_measured_db_per_octave": _within(-16.0, -14.0),   # the knob set to -15 dB/octave, measured back
        # the spectral loss tells phase from pitch, the waveform loss does not; the fit makes progress
        WHOLE: lambda r: (r["spectral_loss_phase_shift"] < 0.35 * r["spectral_loss_pitch_change"]
                          and 0.6 < r["waveform_loss_phase_shift"] / r["waveform_loss_pitch_change"] < 1.6
                          and r["fit_loss_last"] < 0.6 * r["fit_loss_first"]),
    },
    "05_trumpet_dataset": {
        "example_samples": lambda v: v == 64000,
        "example_frames": lambda v: v == 1000,
        "n_recordings": lambda v: v >= 2,
        "n_train_examples": _within(30, 60),              # 41 for 1.5 min
        "n_validation_examples": _within(1, 60),          # 42
        "recordings_overlap": lambda v: v == 0,           # split by recording
        "beam_identical_files": lambda v: v == 3,         # Beam's DirectRunner writes the same files, byte for byte
        "train_seconds": _within(30.0, 90.0),             # 44.06
        "pitch_midi_median": _within(60.0, 74.0),         # 66.0; trumpet range MIDI 52-86
        "pitch_midi_p05": _within(50.0, 62.0),            # 53.0
        "pitch_midi_p95": _within(76.0, 88.0),            # 86.0
        "loudness_db_median": _within(-15.0, 10.0),       # -1.9
        "label_error_cents_median": _within(0.0, 15.0),   # 3.7: CREPE tiny against the exact f0
        "label_within_50_cents": _within(0.95, 1.0),      # 0.99
        "loudness_by_hand_max_diff_db": _within(0.0, 1e-3),    # A-weighted loudness by hand = ttlib's (ddsp's)
        "loudness_stored_max_diff_db": _within(0.0, 0.01),     # ... = the example's stored labels
        # true dynamics: a gain does not brighten a crescendo, the filter does (0.66); the fit = a line by hand
        "swell_gain_slope": _within(-0.1, 0.1),
        "swell_dynamics_slope": _within(0.4, 0.9),
        "swell_by_hand_diff": _within(0.0, 1e-6),
        "real_trumpet_within_slope": _within(-1.0, 2.0),        # offline: the built-in trumpet stands in
        "builtin_within_slope": _within(-1.0, 2.0),             # FAST: 30 s, noisy; see benchmarks/dynamics.py
        "gain_only_within_slope": _within(-1.0, 2.0),
        # quantiles in order; at most one 4 s example per second of audio (1 s hop); equal peaks, unequal loudness
        WHOLE: lambda r: r["pitch_midi_p05"] < r["pitch_midi_median"] < r["pitch_midi_p95"]
        and r["n_train_examples"] <= r["train_seconds"]
        and r["loudness_bright_tone_db"] > r["loudness_low_sine_db"] + 10,
    },
    "06_train_autoencoder": {
        "config": lambda v: v == "tiny",                          # FAST: a few steps of the tiny model
        "steps_trained": lambda v: v == 40,
        "logged_steps_unique": lambda v: v is True,               # stopped at 20, resumed, no step lost or repeated
        "resume_max_abs_difference": _within(0.0, 1e-6),          # resumed curve = uninterrupted curve
        "f0_error_cents_median": _within(0.0, 30.0),
        "output_voiced_fraction": _within(0.5, 1.0),
        "training_minutes": _within(0.0, 10.0),
        "scaling_max_abs_difference": _within(0.0, 1e-5),         # the input scaling by hand = ddsp's preprocessor
        "controls_max_abs_difference": _within(0.0, 1e-5),        # the graph built from ddsp's classes = ttlib's
        "parameters_by_hand": lambda v: v == 13929,                # tiny's room: 8 numbers (a free one: 4000)
        "room_by_hand_max_abs_difference": _within(0.0, 1e-6),    # the course's room by hand = RoomReverb's
        "initial_room_drr_db": _within(12.0, 24.0),               # gain -2: +14 dB (course's 3 s), +21 dB (tiny's)
        "learned_room_drr_db": _within(5.0, 25.0),                # FAST: 40 steps of tiny, a room still
        "harmonic_error_db_ttlib": _within(-60.0, -25.0),         # against an exact float64 sum of sines
        "harmonic_error_db_ddsp": _within(-40.0, 0.0),
        # the loss falls, held out too; training beats the untrained model on every measure
        WHOLE: lambda r: (r["train_loss_end"] < 0.95 * r["train_loss_start"]
                          and r["held_out_loss_end"] < 0.9 * r["held_out_loss_start"]
                          and r["spectral_loss"] < 0.9 * r["spectral_loss_untrained"]
                          and r["loudness_error_db"] < r["loudness_error_db_untrained"]
                          and r["parameters_by_hand"] == r["parameters_library"]
                          and r["harmonic_error_db_ttlib"] < r["harmonic_error_db_ddsp"]),
    },
    "07_timbre_transfer": {
        "octaves_down": lambda v: v == 1,                          # the whistle goes above CREPE's range ...
        "above_ceiling_rpa_plain": _within(0.0, 0.3),               # ... where plain CREPE fails ...
        "above_ceiling_rpa_octave_down": _within(0.85, 1.0),        # ... and an octave down fixes it
        "source_f0_error_cents_median": _within(0.0, 25.0),
        "octave_shift": lambda v: v in (-2, -3),                    # whistle register -> trumpet register
        "adjusted_pitch_in_training_band": _within(0.8, 1.0),
        "transfer_f0_error_cents_median": _within(0.0, 10.0),      # the shipped trumpet follows the adjusted f0
        "cli_f0_error_cents_median": _within(0.0, 10.0),            # (3.4 cents measured)
        "slider_shift_cents": _within(1180.0, 1220.0),             # +12 semitones doubles the output's f0
        "gain_change_rerendered": lambda v: v is False,            # a gain slider only re-mixes
        "slider_latency_ms": _within(0.0, 5000.0),                 # measured properly in benchmarks/transfer.py
        "remix_by_hand_max_diff": _within(0.0, 1e-6),              # a gain's output is the parts mixed by hand
        "cli_vs_notebook_max_diff": _within(0.0, 1e-3),            # the command line gives the same sound
        "remix_latency_ms": _within(0.0, 2000.0),                  # a re-mix does not run the model
    },
    "08_experiment_learned_encoder": {
        "encoder_by_hand_vs_library": _within(0.0, 1e-3),          # the encoder's input derived by hand
        "features_pitch_rpa": _within(0.8, 1.0),                    # CREPE's features hold the pitch ...
        "encoder_level_invariance": _within(0.0, 1e-3),            # ... and not the level
        "rows": lambda v: v == list(experiment.ROWS),               # every row of the table was run ...
        "seeds": lambda v: v == 2,                                  # ... with 2 seeds in the fast setting
        "runs_per_row": lambda v: set(v.values()) == {2},
        "no_overlap_chance": _within(1 / 3 - 1e-9, 1 / 3 + 1e-9),   # enumerated splits = 2 / C(4, 2)
        "table": lambda v: all(np.isfinite(x) for row in v.values() for k, x in row.items()
                               if "spectral" in k or "loudness" in k or "silent" in k),
        # even a few steps show it: given f0, the baseline's pitch is right; guessing it, the published
        # model's oscillator is far off (f0 errors are None where the output has no pitch at all); the
        # hypothesis row, given CREPE's f0 beside z, plays the tune like the baseline
        WHOLE: lambda r: r["table"]["ddsp-baseline"]["resynth f0 (cents)"] < 50.0
        and r["table"]["ddsp-baseline"]["transfer oscillator f0 (cents)"] < 50.0
        < r["table"]["published"]["transfer oscillator f0 (cents)"]
        and r["table"]["crepe-f0"]["transfer oscillator f0 (cents)"] < 50.0,
        "seed0": lambda v: set(v) == set(experiment.ROWS),
        "verdicts": lambda v: set(v) == set(experiment.ROWS) - {"published", "published-harmonic"},
        # the conclusion is written from the runs: the seeds, the published model, one per fix and the
        # hypothesis, the hypothesis against the baseline, the baseline
        "conclusions": lambda v: len(v) == 10 and v[0].startswith("**Runs**: 2 seeds per row")
        and "published model" in v[1] and "against the DDSP baseline" in v[-2] and "DDSP baseline" in v[-1],
        "your_run": lambda v: v == "published",
        "reference_problems": lambda v: v == [],                    # the shipped reference is this code's ...
        "fast_check": lambda v: v == [],                            # ... and this FAST run reproduces its check
    },
    "09_realtime": {
        "latency_samples": lambda v: v == 512 - 256 + 319,             # the budget derived in section 1
        "latency_ms": _within(0.0, 72.0),
        "hop": lambda v: v == 320,                                       # a `course` model
        "block_differences": lambda v: set(v) == {"64", "320", "1000", "4096"} and max(v.values()) <= 1e-4,
        "output_peak": _within(1e-3, 1.0),                               # the stream is not silence
        "live_vs_offline_f0_cents_median": _within(0.0, 10.0),           # frame by frame, mostly the same f0
        "live_jumps": _within(0.0, 0.2),
        "apart_at_edges": _within(0.0, 1.0),
        "offline_jumps": _within(0.0, 0.2),
        "octave_down_fraction": _within(0.05, 1.0),                      # the whistle goes above 2 kHz
        "click_index": lambda v: v["nothing"] < 1.2 and v["phase"] > v["nothing"] + 0.3,   # harmonics: 0.97, 2.09
        "forget_difference_db": lambda v: set(v) == {"phase", "gru", "room"} and all(x > -60 for x in v.values()),
        "partitioned_vs_scipy": _within(0.0, 1e-9),                      # the room block by block = scipy's
        "partitioned_speedup": _within(2.0, 1e4),
        "gated_max": lambda v: v == 0.0,                                 # room noise gives silence ...
        "ungated_rms_db": _within(-90.0, 0.0),                           # ... where the ungated model plays
        "glide_error_cents_max": _within(0.0, 30.0),                     # up to 2.4 kHz, live
        "glide_jump_cents": _within(0.0, 30.0),                          # no jump where the analysis switched
        "widget_vs_stream": _within(0.0, 1e-6),                          # the widget's handler is the engine
        "hop_ms_median": _within(0.0, 1000.0),                           # measured properly in benchmarks/live.py
        "hop_ms_p99": _within(0.0, 5000.0),
        # section 9: the export's float32 phase keeps to a milliradian or so over a minute (1.2e-3 measured),
        # a float32 sum sample by sample drifts hundreds of times further (0.49 rad)
        "phase_error_rad": lambda v: (v["the export's sum"] < 3e-3
                                      and 10 * v["the export's sum"] < v["summed sample by sample"]),
        "export_control_diff": _within(0.0, 1e-4),                       # issue 16: TFLite within 1e-4
        "export_audio_diff": _within(0.0, 1e-3),
        # the onsets heard agree with the declared latency within one hop
        WHOLE: lambda r: abs(r["measured_lag_samples"] - r["latency_samples"]) <= r["hop"],
    },
    "10_acoustics_transfer": {
        "synthetic_t60_rel": _within(0.0, 0.01),                        # T60 = 3 ln(10) tau, derived and measured
        "t30_hand_vs_library_rel": _within(0.0, 0.01),                  # the hand-made Schroeder fit = the library
        "t30_vs_pyroomacoustics_rel": _within(0.0, 0.05),
        "drr_hand_vs_library_db": _within(0.0, 0.05),
        "c80_hand_vs_library_db": _within(0.0, 0.05),
        "simulated_t30": _within(0.8, 1.3),                              # 1.04 s measured for Sabine's 0.8 s
        "hall_t30": _within(5.6, 6.2),                                   # the Sports Centre, noise taken out
        "model_room_drr": _within(-40.0, 60.0),
        "data_room_drr": _within(15.0, 25.0),     # FluidSynth's reverb deconvolved from the whole take: +19.9 dB
        # the data's room holds little 2.5-10 ms after its direct sound (-35 dB measured; any model's is its own)
        "room_early_db": lambda v: v["the data's room (FluidSynth's reverb)"] < -25.0 and len(v) == 2,
        "dry_band_error_db": _within(0.0, 10.0),                        # the shipped trumpet: 4.6 dB per band
        "wet_band_error_db": _within(0.0, 10.0),                        # (4.5 in its room)
        # FluidSynth's reverb (the training data's room) makes notes ring on longer than the dry rendering
        "fall_ms": lambda v: v["dry (FluidSynth's reverb off)"] < v["FluidSynth's reverb on (the training data)"],
        # issue 15's acceptance: the output deconvolved by the dry output is the room, T30 within 5 %, DRR 1 dB
        "recovered": lambda v: set(v) == {"simulated", "Sports Centre"}
        and all(r["t30_rel"] <= 0.05 and r["drr_db"] <= 1.0 for r in v.values()),
        "mix_drr": lambda v: v["0.2"] > v["0.5"] > v["1.0"],            # less room, more direct sound
        # FAST: a short fit, far from the room (README, Rooms): 5.2 and 14.7 dB measured (2.6 and 11.6 dB before
        # the adjustment bridged the note changes, whose gaps had pushed the fit toward a tail)
        "estimate_t30_rel": _within(0.0, 8.0),
        "estimate_drr_db": _within(0.0, 20.0),
        "estimate_playing": _within(0.3, 1.0),
        "removal_fall_ms": lambda v: v["the recording (in the room)"] > v["the dry trumpet (the truth)"],
        # the model's dry output on its own training data falls faster than the input's reverb (70 < 100 ms)
        "training_fall_ms": lambda v: len(v) == 2
        and v["the model's dry output"] < v["the input (FluidSynth's reverb on)"],
        "selector_renders": lambda v: v == 0,                            # another room re-mixes, no model run
        WHOLE: lambda r: r["hall_naive_t30"] > r["hall_t30"],            # the noise floor lengthens a naive fit
    },
}


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no NN_topic.ipynb"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_clean(notebook):
    """Committed without outputs, with one cell tagged `parameters` that sets FAST and OUTPUT_DIR."""
    nb = json.loads(notebook.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    with_outputs = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count")]
    assert not with_outputs, f"{notebook.name}: code cells {with_outputs} have saved outputs; strip them"
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{notebook.name}: needs exactly one cell tagged 'parameters', has {len(tagged)}"
    source = "".join(tagged[0]["source"])
    assert "FAST = False" in source and "OUTPUT_DIR =" in source, f"{notebook.name}: parameters lack FAST or OUTPUT_DIR"
    assert nb["cells"][0]["cell_type"] == "markdown" and "What you will learn" in "".join(nb["cells"][0]["source"]), \
        f"{notebook.name}: the first cell must be a title saying what you will learn"
    assert "**Time:**" in "".join(nb["cells"][0]["source"]), \
        f"{notebook.name}: the title cell should say how long it takes (a '**Time:**' line, measured)"
    headings = [line.strip("# ").strip() for c in nb["cells"] if c["cell_type"] == "markdown"
                for line in "".join(c["source"]).splitlines() if line.startswith("## ")]
    ending = [h for h in headings if h in ("Summary", "Exercises", "References")]
    assert ending[-3:] == ["Summary", "Exercises", "References"], \
        f"{notebook.name}: end with Summary, Exercises and References (found {ending})"
    exercises, solved = exercises_and_solutions(nb)
    assert exercises, f"{notebook.name}: its Exercises section has no numbered exercises"
    assert exercises == solved, (f"{notebook.name}: exercises {sorted(exercises)} need one worked solution each "
                                 f"(cells tagged 'solution' starting '%%solution' then '# Solution N'); "
                                 f"found solutions to {sorted(solved)}")
    assert "SHOW_SOLUTIONS = False" in source, f"{notebook.name}: parameters lack SHOW_SOLUTIONS = False"


def solution_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if "solution" in c.get("metadata", {}).get("tags", [])]


def exercises_and_solutions(nb: dict) -> tuple[set, set]:
    """The numbers of the exercises (a numbered list under '## Exercises') and of their solutions.

    A solution is a code cell tagged `solution`, collapsed, starting with the `%%solution`
    magic (which hides what it shows unless SHOW_SOLUTIONS) and then `# Solution N`.
    """
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    section = text.split("## Exercises", 1)[-1].split("\n## ", 1)[0] if "## Exercises" in text else ""
    exercises = {int(n) for n in re.findall(r"^(\d+)\. ", section, re.MULTILINE)}
    solved = set()
    for cell in solution_cells(nb):
        lines = "".join(cell["source"]).splitlines()
        hidden = cell.get("metadata", {}).get("jupyter", {}).get("source_hidden")
        found = re.match(r"# Solution (\d+)\b", lines[1]) if len(lines) > 1 else None
        if cell["cell_type"] == "code" and lines[0].startswith("%%solution") and hidden and found:
            solved.add(int(found.group(1)))
    return exercises, solved


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_data_folder_parameter_is_pointed_away_from_the_checkout(notebook, tmp_path):
    """A parameter defaulting to a folder under ../data would make the tests write into the checkout."""
    nb = json.loads(notebook.read_text())
    (cell,) = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    into_data = set(re.findall(r'^([A-Z_]+) = "\.\./data/', "".join(cell["source"]), re.MULTILINE))
    missing = into_data - set(data_folders(tmp_path).get(notebook.name[:2], {}))
    assert not missing, f"{notebook.name}: give {sorted(missing)} a temporary folder in data_folders()"


def test_the_lanes_hold_every_notebook_once():
    assert sorted(n for lane in LANES for n in lane) == sorted(nb.name[:2] for nb in NOTEBOOKS)


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_records_its_figures(notebook, notebook_runs):
    assert notebook.stem in EXPECTED, f"add the figures {notebook.name} records to EXPECTED"
    run, out = notebook_runs[notebook.stem].result()
    results = run["results"]
    for name, ok in EXPECTED[notebook.stem].items():
        if name == WHOLE:
            assert ok(results), f"{notebook.name}: the recorded figures {results} fail: {name}"
            continue
        assert name in results, f"{notebook.name} did not record {name!r}; it recorded {sorted(results)}"
        assert ok(results[name]), f"{notebook.name}: {name} = {results[name]!r} is out of tolerance"
    executed = json.loads((out / notebook.name).read_text())
    shown = [i for i, c in enumerate(executed["cells"]) if c in solution_cells(executed) and c.get("outputs")]
    assert not shown, f"{notebook.name}: solution cells {shown} show output although SHOW_SOLUTIONS is False"
