"""ttlib.data.score and ttlib.data.builtin: composition, ground truth, rendering, the cached build."""
import json

import mir_eval
import numpy as np
import pytest

from ttlib import pitch
from ttlib.core.units import midi_to_hz
from ttlib.data import builtin, score


@pytest.mark.parametrize("name", list(score.INSTRUMENTS))
def test_composition_is_musical_in_range_and_deterministic(name):
    spec = score.INSTRUMENTS[name]
    one = score.compose(spec, 60.0, np.random.default_rng(3))
    two = score.compose(spec, 60.0, np.random.default_rng(3))
    assert one == two
    pitches = [n[0] for n in one.notes]
    assert spec.low <= min(pitches) and max(pitches) <= spec.high
    assert len(set(pitches)) >= 8, "a melody, not a drone"
    starts, ends = np.array([n[2] for n in one.notes]), np.array([n[3] for n in one.notes])
    assert np.all(ends[:-1] <= starts[1:] + 1e-9), "monophonic"
    gaps = starts[1:] - ends[:-1]
    assert (gaps > 0.35).sum() >= 2, "phrases are separated by rests"
    assert (gaps == 0).sum() >= 1, "some notes are legato"
    bends = np.array([b[1] for b in one.bends])
    assert bends.min() < -100 and bends.max() > 100, "vibrato by pitch bend"
    cc11 = np.array([e[1] for e in one.expression])
    assert cc11.max() - cc11.min() > 30, "dynamics by expression"
    assert len({n[1] for n in one.notes}) > 5, "varied velocities"
    assert 55.0 < one.seconds < 62.0


def test_ground_truth_follows_notes_bends_and_tuning():
    perf = score.Performance(notes=[(69, 100, 0.1, 0.5), (72, 100, 0.5, 0.9)],
                               bends=[(0.1, 0), (0.3, 4096), (0.5, 0)], expression=[], seconds=1.0)
    f0, voiced = score.ground_truth(perf, frame_rate=100, tuning_cents={72: 10.0})
    assert not voiced[:10].any() and voiced[10:90].all() and not voiced[90:].any()
    np.testing.assert_allclose(f0[15], 440.0, rtol=1e-6)
    np.testing.assert_allclose(f0[35], 440.0 * 2 ** (100 / 1200), rtol=1e-6)       # +4096 = +100 cents
    np.testing.assert_allclose(f0[60], 523.2511 * 2 ** (10 / 1200), rtol=1e-5)


def test_build_is_cached_and_its_truth_agrees_with_crepe(tmp_path, monkeypatch):
    folder = builtin.build("trumpet", minutes=0.5, seed=1, cache_dir=tmp_path, progress=False)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert len(manifest["tuning_cents"]) == 35 and all(abs(c) < 50 for c in manifest["tuning_cents"].values())
    takes = builtin.recordings(folder)
    # the second build renders nothing and gives the same takes
    monkeypatch.setattr(builtin, "render", lambda *a, **k: pytest.fail("rendered again instead of the cache"))
    monkeypatch.setattr(builtin, "measure_tuning", lambda *a, **k: pytest.fail("measured again"))
    assert builtin.build("trumpet", minutes=0.5, seed=1, cache_dir=tmp_path) == folder
    for again, first in zip(builtin.recordings(folder), takes, strict=True):
        np.testing.assert_array_equal(again.audio, first.audio)
        assert again.performance == first.performance
    monkeypatch.undo()
    assert sum(t.audio.size for t in takes) / 16000 == pytest.approx(30.0, abs=3.0)
    take = takes[0]
    assert (folder / f"{take.name}.mid").is_file()
    truth, voiced = take.ground_truth(100)
    estimate = pitch.track(take.audio, "crepe-tiny", frame_rate=100)
    assert truth.size == estimate.f0_hz.size
    ref_v, ref_c, est_v, est_c = mir_eval.melody.to_cent_voicing(estimate.times_s, np.where(voiced, truth, 0),
                                                                 estimate.times_s, estimate.f0_mir_eval_hz)
    assert mir_eval.melody.raw_pitch_accuracy(ref_v, ref_c, est_v, est_c) > 0.95


def test_rendering_is_deterministic(tmp_path):
    a = builtin.build("whistle", minutes=0.2, seed=5, cache_dir=tmp_path / "a", progress=False)
    b = builtin.build("whistle", minutes=0.2, seed=5, cache_dir=tmp_path / "b", progress=False)
    for x, y in zip(builtin.recordings(a), builtin.recordings(b)):
        np.testing.assert_array_equal(x.audio, y.audio)
    c = builtin.build("whistle", minutes=0.2, seed=6, cache_dir=tmp_path / "a", progress=False)
    other, first = builtin.recordings(c)[0], builtin.recordings(a)[0]
    assert other.performance.notes != first.performance.notes, "another seed composes other music"
    n = min(other.audio.size, first.audio.size)
    assert np.abs(other.audio[:n] - first.audio[:n]).max() > 0.1



def test_a_damaged_cached_rendering_is_rendered_again(tmp_path):
    """A cached folder without its manifest (damaged) is replaced by a new build, not kept and returned."""
    folder = builtin.build("whistle", minutes=0.2, seed=5, cache_dir=tmp_path, progress=False)
    first = builtin.recordings(folder)[0].audio
    (folder / "manifest.json").unlink()
    assert builtin.build("whistle", minutes=0.2, seed=5, cache_dir=tmp_path, progress=False) == folder
    assert (folder / "manifest.json").is_file()
    np.testing.assert_array_equal(builtin.recordings(folder)[0].audio, first)
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]

RENDER_A_NOTE = """
import ctypes, sys
import numpy as np
import pretty_midi
if sys.argv[1] == "seeded":     # what a Jupyter kernel's libraries do before a notebook renders (rand() seeded)
    ctypes.CDLL(None).srand(12345)
from ttlib.data import soundfont
midi = pretty_midi.PrettyMIDI()
part = pretty_midi.Instrument(program=56)
part.notes.append(pretty_midi.Note(velocity=100, pitch=60, start=0.0, end=0.5))
midi.instruments.append(part)
np.save(sys.argv[2], soundfont.render_midi(midi))
"""


def test_every_process_renders_the_same_samples(tmp_path):
    """FluidSynth's dither table comes from the C library's rand() (a kernel rendered other samples than the
    command line: 5e-4 apart): `render_midi` seeds it as a fresh process has it."""
    import subprocess
    import sys

    for kind in ("fresh", "seeded"):
        done = subprocess.run([sys.executable, "-c", RENDER_A_NOTE, kind, str(tmp_path / f"{kind}.npy")],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_array_equal(np.load(tmp_path / "fresh.npy"), np.load(tmp_path / "seeded.npy"))


def test_whistle_reaches_above_crepes_ceiling():
    spec = score.INSTRUMENTS["whistle"]
    assert midi_to_hz(spec.high) > pitch.CREPE_MAX_HZ > midi_to_hz(spec.low)
    assert midi_to_hz(spec.low) == pytest.approx(698.46, abs=0.01)


def test_unknown_instrument():
    with pytest.raises(ValueError, match="'tuba'.*trumpet, whistle"):
        builtin.build("tuba")


def test_the_release_tail_is_voiced_until_the_next_note():
    perf = score.Performance(notes=[(69, 100, 0.1, 0.5), (72, 100, 0.6, 0.9)],
                               bends=[(0.1, 0), (0.6, 0)], expression=[], seconds=1.5)
    f0, voiced = score.ground_truth(perf, frame_rate=100, release_s=0.25)
    assert voiced[10:90].all(), "the first note rings until the second starts (0.5 + 0.25 > 0.6)"
    np.testing.assert_allclose(f0[55], 440.0, rtol=1e-6)
    assert voiced[90:115].all() and not voiced[115:].any(), "the last note rings 0.25 s after its note-off"


def test_example_trumpet_falls_back_to_the_builtin_offline(monkeypatch, tmp_path):
    import librosa

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(librosa, "example", offline)
    monkeypatch.setenv("TTLIB_CACHE", str(tmp_path))
    samples, description = builtin.example_trumpet()
    assert "built-in rendered trumpet" in description and "ConnectionError" in description
    assert samples.size == int(5.3 * 16000) and np.abs(samples).max() > 0.1


def _stretches(performance, gap_s=0.3):
    """(start, end) of each run of notes without a gap longer than gap_s."""
    runs, (first, last) = [], performance.notes[0][2:4]
    for _, _, start, end in performance.notes[1:]:
        if start - last > gap_s:
            runs.append((first, last))
            first = start
        last = end
    return runs + [(first, last)]


def test_each_instrument_phrases_idiomatically():
    rng = np.random.default_rng
    for name in ("flute", "saxophone"):                       # winds: no phrase outlasts a breath
        spec = score.INSTRUMENTS[name]
        perf = score.compose(spec, 120.0, rng(1))
        assert max(end - start for start, end in _stretches(perf)) <= spec.breath_s + 1e-6, name
    trumpet = score.compose(score.INSTRUMENTS["trumpet"], 120.0, rng(1))
    assert max(end - start for start, end in _stretches(trumpet)) > 6.0, "the trumpet's phrases are not cut"

    def first_bend_cents(perf):                              # each note's bend at its start, in cents
        bends = np.array(perf.bends, dtype=float)
        return np.array([bends[np.searchsorted(bends[:, 0], n[2] - 1e-9), 1] for n in perf.notes]) * 200 / 8192

    sax = score.compose(score.INSTRUMENTS["saxophone"], 120.0, rng(2))
    scooped = first_bend_cents(sax) < -45                     # tuning corrections are within +-30 cents
    assert 0.15 < scooped.mean() < 0.6, "some saxophone notes scoop up from 60 cents below"
    assert not (first_bend_cents(trumpet) < -45).any(), "the trumpet does not scoop"
    violin = score.compose(score.INSTRUMENTS["violin"], 120.0, rng(3))
    slides = np.abs(first_bend_cents(violin)) > 80            # a shift starts a step (100-200 cents) away
    assert slides.sum() >= 3, "the violin slides into some notes"
    starts = {round(n[2], 6) for n in violin.notes}
    swells = [t for t, _ in violin.expression if round(t, 6) in starts]
    assert len(swells) > 0.5 * len(violin.notes), "the violin's dynamics restart with each bow stroke"


@pytest.mark.parametrize("name", list(score.INSTRUMENTS))
def test_true_dynamics_are_a_filter_that_opens_with_expression(name):
    spec = score.INSTRUMENTS[name]
    perf = score.compose(spec, 60.0, np.random.default_rng(4))
    plain = score.compose(spec, 60.0, np.random.default_rng(4), dynamics=False)
    assert (plain.notes, plain.bends, plain.expression) == (perf.notes, perf.bends, perf.expression)
    assert plain.brightness == []
    if spec.brightness is None:                                   # the whistle: a gain only
        assert perf.brightness == []
        return
    times = np.array([t for t, _ in perf.expression])
    for t, data in perf.brightness[::7]:                          # the formula of score.brightness_events
        key = [n[0] for n in perf.notes if n[2] <= t][-1]
        i = np.searchsorted(times, t, side="right") - 1
        level = perf.expression[i][1] / 127 if i >= 0 else 1.0
        lo, hi = spec.brightness
        cents = 100 * key + 1200 * (lo + (hi - lo) * level)
        assert data == int(np.clip(round(8192 + (cents - 13500) / 2), 0, 16383))
    sequence = score.to_note_sequence(perf, spec)
    numbers = [c.control_number for c in sequence.control_changes if c.control_number != 11]
    assert numbers == [99, 98, 38, 6] * len(perf.brightness), "the NRPN's four controllers in order"
    # FluidSynth's NRPN state (fluid_synth_cc_LOCAL), fed as pretty_midi feeds it (a stable sort by time):
    # every data entry must reach generator 8, the cutoff, with this update's 14 bits
    select, lsb, applied = 0, 0, []
    for c in sorted(sequence.control_changes, key=lambda c: c.time):
        if c.control_number == 99:
            select = 0
        elif c.control_number == 98:
            select += c.control_value
        elif c.control_number == 38:
            lsb = c.control_value
        elif c.control_number == 6:
            applied.append((select, (c.control_value << 7) + lsb))
            select = 0
    assert applied == [(8, data) for _, data in perf.brightness], "an update interleaved with another"
    gaps = np.diff([t for t, _ in perf.brightness])
    assert gaps.size == 0 or gaps.min() >= score.NRPN_SPACING_S


@pytest.mark.parametrize("name", list(score.INSTRUMENTS))
def test_true_dynamics_brighten_a_crescendo_and_a_gain_does_not(name):
    from ttlib.data import dynamics

    slope = {on: dynamics.brightness_fit(*_clip_audio_f0(builtin.crescendo(name, dynamics=on))).within_note_per_10db
             for on in (True, False)}
    assert abs(slope[False]) < 0.1, f"{name}: General MIDI's expression is a gain: a crescendo does not brighten"
    if score.INSTRUMENTS[name].brightness is None:
        assert slope[True] == slope[False]
    else:
        assert slope[True] > 0.15, f"{name}: {slope}"


def _clip_audio_f0(clip):
    return clip.audio, clip.f0_hz


def test_datasets_of_true_dynamics_are_not_taken_for_the_samples_of_before():
    """A dataset's settings name the rendering: one built from builtin:trumpet before true dynamics were the
    default (the same settings but this) is another dataset, refused unless --overwrite (build_dataset)."""
    from ttlib.data.sources import builtin_render

    assert builtin_render("trumpet") == builtin_render("") == builtin_render("violin:dry") == {
        "dynamics": builtin.DYNAMICS_VERSION}
    assert builtin_render("trumpet:gm") is None and builtin_render("whistle") is None
