"""ttlib.data: every source from fixtures written in its exact format, splits, statistics, the CLI."""
import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile
import tensorflow as tf

from ttlib import data, synth
from ttlib.data import sources


def _melody(seconds, rate=48000, f0s=(233.1, 261.6, 293.7)):
    """A harmonic melody at `rate` with its (time, f0) annotation every 10 ms."""
    per_note = seconds / len(f0s)
    audio = np.concatenate([synth.harmonic_tone(f, per_note, amplitude=0.3, sample_rate=rate) for f in f0s])
    times = np.arange(0, seconds, 0.01)
    f0 = np.array([f0s[min(int(t / per_note), len(f0s) - 1)] for t in times])
    f0[times < 0.2] = 0.0                                        # an unvoiced start
    return audio, times, f0


@pytest.fixture
def urmp_folder(tmp_path):
    """A URMP copy in its published layout: Dataset/NN_Piece_inst1_inst2/AuSep_K_inst_NN_Piece.wav + F0s_."""
    root = tmp_path / "URMP" / "Dataset"
    pieces = {"01_Jupiter_tpt_vn": [("1", "tpt", True), ("2", "vn", True)],
              "02_Sonata_tpt_tpt": [("1", "tpt", True), ("2", "tpt", False)],
              "03_Dance_tpt_fl": [("1", "tpt", True), ("2", "fl", True)]}
    for folder, stems in pieces.items():
        number_piece = "_".join(folder.split("_")[:2])
        (root / folder).mkdir(parents=True)
        for k, inst, annotated in stems:
            audio, times, f0 = _melody(6.0)
            soundfile.write(str(root / folder / f"AuSep_{k}_{inst}_{number_piece}.wav"), audio, 48000)
            if annotated:
                np.savetxt(root / folder / f"F0s_{k}_{inst}_{number_piece}.txt", np.stack([times, f0], 1),
                           fmt="%.4f", delimiter="\t")
    return root


def _records(path):
    spec = {"recording_id": tf.io.FixedLenFeature([], tf.string),
            "f0_hz": tf.io.VarLenFeature(tf.float32)}
    out = []
    for raw in tf.data.TFRecordDataset(str(path)):
        parsed = tf.io.parse_single_example(raw, spec)
        out.append((parsed["recording_id"].numpy().decode(), tf.sparse.to_dense(parsed["f0_hz"]).numpy()))
    return out


def test_urmp_folder_uses_the_trumpet_stems_and_their_annotation(urmp_folder, tmp_path):
    out = data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "ds", validation_fraction=0.3,
                             cache_dir=tmp_path / "cache", progress=False)
    manifest = data.read_manifest(out)
    used = sorted(r["recording_id"] for r in manifest["recordings"])
    assert used == ["01_Jupiter_tpt1", "02_Sonata_tpt1", "03_Dance_tpt1"]
    assert all(r["f0_source"] == "annotation" for r in manifest["recordings"])
    assert [s["reason"] for s in manifest["skipped"]] == ["no f0 annotation F0s_2_tpt_02_Sonata.txt beside it"]
    assert manifest["examples"]["train"] + manifest["examples"]["validation"] == 3 * 3   # 6 s, 4 s windows, 1 s hop
    for _, f0 in _records(out / "train.tfrecord"):
        voiced = f0[f0 > 0]
        on_a_note = np.isin(np.round(voiced), [233.0, 262.0, 294.0])    # between notes: interpolated
        assert f0.size == 1000 and on_a_note.mean() > 0.98
    stats = data.read_statistics(out)
    assert stats["f0_method"] == "annotation"
    assert 58 < stats["train"]["pitch_midi"]["mean"] < 63


def test_urmp_unknown_instrument_and_empty_folder(urmp_folder, tmp_path):
    with pytest.raises(data.DatasetError, match="'trumpet'.*tpt"):
        data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "x", instrument="trumpet")
    with pytest.raises(data.DatasetError, match="No URMP stems AuSep_\\*_hn_\\*.wav"):
        data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "y", instrument="hn")


def test_urmp_f0_annotation_errors(tmp_path):
    bad = tmp_path / "F0s_1_tpt_01_X.txt"
    bad.write_text("0.0 1.0\n0.01\n")
    with pytest.raises(data.DatasetError, match="two numeric columns"):
        sources.read_urmp_f0(bad)
    bad.write_text("0.02 100\n0.01 100\n")
    with pytest.raises(data.DatasetError, match="must increase"):
        sources.read_urmp_f0(bad)


def _ddsp_example(f0_hz, n_samples=64000, n_frames=1000):
    rng = np.random.default_rng(int(f0_hz))
    feature = {"audio": rng.normal(0, 0.1, n_samples), "f0_hz": np.full(n_frames, f0_hz),
               "f0_confidence": np.full(n_frames, 0.9), "loudness_db": np.full(n_frames, -30.0)}
    return tf.train.Example(features=tf.train.Features(feature={
        k: tf.train.Feature(float_list=tf.train.FloatList(value=v.astype(np.float32))) for k, v in feature.items()}))


def test_magentas_urmp_tfrecords_keep_their_split(tmp_path):
    folder = tmp_path / "urmp_tfrecords"
    folder.mkdir()
    for split, f0s in (("train", (220.0, 330.0, 440.0)), ("test", (262.0,))):
        name = f"urmp_tpt_solo_ddsp_conditioning_{split}.tfrecord-00000-of-00001"
        with tf.io.TFRecordWriter(str(folder / name)) as w:
            for f0 in f0s:
                w.write(_ddsp_example(f0).SerializeToString())
    out = data.build_dataset(f"urmp:{folder}", tmp_path / "ds", progress=False)
    assert data.read_manifest(out)["examples"] == {"train": 3, "validation": 1}
    batch = next(iter(data.provider(out, "train").get_batch(3, shuffle=False)))
    assert sorted(np.round(batch["f0_hz"].numpy()[:, 0])) == [220.0, 330.0, 440.0]
    assert data.read_statistics(out)["validation"]["pitch_midi"]["mean"] == pytest.approx(60.0, abs=0.05)


@pytest.fixture
def recordings_folder(tmp_path):
    root = tmp_path / "my_recordings"
    (root / "day1").mkdir(parents=True)
    (root / "day2" / "take").mkdir(parents=True)
    tone = synth.harmonic_tone(392.0, 5.0, amplitude=0.3, sample_rate=44100)
    silence = np.zeros(44100, np.float32)
    soundfile.write(str(root / "day1" / "long.wav"), np.concatenate([silence, tone, silence]), 44100)
    soundfile.write(str(root / "day2" / "take" / "stereo.flac"), np.stack([tone, tone], 1), 44100)
    soundfile.write(str(root / "day2" / "short.ogg"), tone[:2 * 44100], 44100)
    (root / "day1" / "empty.wav").write_bytes(b"")
    (root / "day1" / "letter.wav").write_text("not audio at all " * 50)
    soundfile.write(str(root / "day2" / "blip.wav"), tone[:441], 44100)
    broken = tone.copy()
    broken[100] = np.nan
    soundfile.write(str(root / "day2" / "nan.wav"), broken, 44100, subtype="FLOAT")
    soundfile.write(str(root / "day2" / "quiet.wav"), silence, 44100)
    (root / "notes.txt").write_text("a file that is not audio is not even looked at")
    return root


def test_folder_reports_what_was_used_and_what_was_skipped(recordings_folder, tmp_path):
    out = data.build_dataset(f"folder:{recordings_folder}", tmp_path / "ds", f0_method="yin",
                             validation_fraction=0.3, cache_dir=tmp_path / "cache", progress=False)
    manifest = data.read_manifest(out)
    used = {r["recording_id"]: r for r in manifest["recordings"]}
    assert sorted(used) == ["day1_long", "day2_short", "day2_take_stereo"]
    assert any("trimmed" in n for n in used["day1_long"]["notes"])
    assert any("mixed down" in n for n in used["day2_take_stereo"]["notes"])
    assert any("padded" in n for n in used["day2_short"]["notes"])
    reasons = {s["path"].split("my_recordings/")[1]: s["reason"] for s in manifest["skipped"]}
    assert sorted(reasons) == ["day1/empty.wav", "day1/letter.wav", "day2/blip.wav", "day2/nan.wav", "day2/quiet.wav"]
    assert "empty" in reasons["day1/empty.wav"] and "not an audio file" in reasons["day1/letter.wav"]
    assert "shorter than one analysis frame" in reasons["day2/blip.wav"]
    assert "NaN" in reasons["day2/nan.wav"] and "silent" in reasons["day2/quiet.wav"]


def test_split_is_by_recording_and_statistics_are_json(recordings_folder, tmp_path):
    out = data.build_dataset(f"folder:{recordings_folder}", tmp_path / "ds", f0_method="yin",
                             validation_fraction=0.3, cache_dir=tmp_path / "cache", progress=False)
    train_ids = {rid for rid, _ in _records(out / "train.tfrecord")}
    validation_ids = {rid for rid, _ in _records(out / "validation.tfrecord")}
    assert train_ids and validation_ids and not train_ids & validation_ids
    recordings = data.read_manifest(out)["recordings"]
    held = sum(r["seconds"] for r in recordings if r["split"] == "validation")
    assert held / sum(r["seconds"] for r in recordings) >= 0.3                 # the asked share, by duration
    stats = json.loads((out / "statistics.json").read_text())
    quantiles = stats["train"]["loudness_db_voiced"]["quantiles"]
    assert len(quantiles) == 101 and quantiles == sorted(quantiles)
    assert stats["train"]["pitch_midi"]["mean"] == pytest.approx(67.0, abs=0.3)        # G4 = 392 Hz


def test_split_recordings_holds_out_whole_recordings_and_the_asked_share():
    durations = {f"take{k}": float(d) for k, d in enumerate(np.random.default_rng(3).uniform(20, 60, 30))}
    total = sum(durations.values())
    for fraction in (0.1, 0.25, 0.5):
        for seed in (0, 1):
            split = data.split_recordings(durations, fraction, seed=seed)
            assert set(split) == set(durations)
            held = [r for r, side in split.items() if side == "validation"]
            share = sum(durations[r] for r in held) / total
            assert share >= fraction, (fraction, seed, share)
            # no more than needed: without its last recording the held-out share falls short
            assert share - max(durations[r] for r in held) / total < fraction
            assert data.split_recordings(durations, fraction, seed=seed) == split      # same seed, same split
    assert data.split_recordings(durations, 0.25, 0) != data.split_recordings(durations, 0.25, 1)
    assert set(data.split_recordings(durations, 0.0, 0).values()) == {"train"}
    assert data.split_recordings({"only": 10}, 0.5, seed=0) == {"only": "train"}   # never all of them


def test_builtin_dataset_then_up_to_date_then_refuses_other_settings(tmp_path, capsys):
    kwargs = dict(minutes=0.25, f0_method="yin", cache_dir=tmp_path / "cache", progress=False)
    out = data.build_dataset("builtin:whistle", tmp_path / "ds", **kwargs)
    manifest = data.read_manifest(out)
    assert all(r["has_truth"] for r in manifest["recordings"])
    truth = tf.io.parse_single_example(next(iter(tf.data.TFRecordDataset(str(out / "train.tfrecord")))),
                                       {"f0_hz_truth": tf.io.FixedLenFeature([1000], tf.float32)})
    assert truth["f0_hz_truth"].numpy().max() > 600
    data.build_dataset("builtin:whistle", tmp_path / "ds", **kwargs)
    assert "up to date" in capsys.readouterr().out
    with pytest.raises(data.DatasetError, match="other settings.*--overwrite"):
        data.build_dataset("builtin:whistle", tmp_path / "ds", **{**kwargs, "f0_method": "pyin"})
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(data.DatasetError, match="not a dataset folder"):
        data.build_dataset("builtin:whistle", tmp_path / "mine", **kwargs)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_bad_sources_are_named(tmp_path):
    with pytest.raises(data.DatasetError, match="Unknown source 'youtube:x'"):
        data.parse_source("youtube:x")
    with pytest.raises(data.DatasetError, match="is not a folder"):
        data.parse_source(f"folder:{tmp_path / 'nope'}")
    with pytest.raises(data.DatasetError, match="not a dataset folder"):
        data.provider(tmp_path)


def test_cli_builds_a_folder_dataset_and_reports(recordings_folder, tmp_path):
    cmd = [sys.executable, "-m", "ttlib", "data", "build", "--source", f"folder:{recordings_folder}",
           "--out", str(tmp_path / "ds"), "--f0-method", "yin", "--quiet", "--cache", str(tmp_path / "cache")]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "train" in out.stdout and "skipped:" in out.stdout and "letter.wav" in out.stdout
    bad = subprocess.run(cmd[:6] + ["folder:/nonexistent", "--out", str(tmp_path / "x")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "is not a folder" in bad.stderr and "Traceback" not in bad.stderr


def test_same_name_in_two_formats_stays_two_recordings(tmp_path):
    tone = synth.harmonic_tone(440.0, 1.0, amplitude=0.3)
    for ext in ("wav", "flac"):
        soundfile.write(str(tmp_path / f"take.{ext}"), tone, 16000)
    items, skipped = sources.folder_items(tmp_path)
    assert sorted(i.recording_id for i in items) == ["take", "take_wav"] and not skipped


def test_ddsps_trainer_takes_a_batch_from_the_provider(tmp_path):
    from ttlib import models

    out = data.build_dataset("builtin", tmp_path / "ds", minutes=0.2, f0_method="yin",
                             cache_dir=tmp_path / "cache", progress=False)
    config = models.ModelConfig(name="tiny-4s", example_seconds=4.0, rnn_channels=16, mlp_channels=16,
                                mlp_layers=1, n_harmonics=8, n_noise_bands=8, reverb_seconds=0.1,
                                fft_sizes=(256, 64), batch_size=2)
    batch = next(iter(data.provider(out, "train").get_batch(config.batch_size, shuffle=True)))
    assert batch["audio"].shape == (2, config.n_samples) and batch["f0_hz"].shape == (2, config.n_frames)
    trainer = models.make_trainer(models.build_autoencoder(config), config)
    losses = models.train_steps(trainer, {k: batch[k] for k in ("audio", "f0_hz", "loudness_db")}, 2)
    assert all(np.isfinite(losses))


def _audio_records(path):
    spec = {"recording_id": tf.io.FixedLenFeature([], tf.string), "audio": tf.io.VarLenFeature(tf.float32),
            "loudness_db": tf.io.VarLenFeature(tf.float32)}
    out = []
    for raw in tf.data.TFRecordDataset(str(path)):
        parsed = tf.io.parse_single_example(raw, spec)
        out.append((parsed["recording_id"].numpy().decode(),
                    *(tf.sparse.to_dense(parsed[k]).numpy() for k in ("audio", "loudness_db"))))
    return out


def test_a_room_plays_every_whole_recording_in_it_before_its_features(urmp_folder, tmp_path, monkeypatch):
    from scipy.signal import oaconvolve

    from ttlib.audio.room import load_impulse_response, shoebox

    h, _ = shoebox(0.6, [9.0, 7.0, 3.5])
    soundfile.write(str(tmp_path / "room.wav"), h, 16000, subtype="FLOAT")
    kwargs = dict(validation_fraction=0.0, cache_dir=None, progress=False)
    dry = data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "dry", **kwargs)
    wet = data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "wet", room=tmp_path / "room.wav", **kwargs)
    manifest = data.read_manifest(wet)
    assert manifest["params"]["room"]["path"] == str((tmp_path / "room.wav").resolve())
    assert all("played in the room room.wav" in " ".join(r["notes"]) for r in manifest["recordings"])
    ir = load_impulse_response(tmp_path / "room.wav")
    items, _ = sources.urmp_items(str(urmp_folder), "tpt", 250.0)
    whole = {item.recording_id: oaconvolve(item.audio, ir)[:item.audio.size] for item in items}
    dry_records, wet_records = _audio_records(dry / "train.tfrecord"), _audio_records(wet / "train.tfrecord")
    assert len(wet_records) == len(dry_records) == 9
    seen = {}
    for (rid, audio, loudness), (_, _, dry_loudness) in zip(wet_records, dry_records):
        start = 16000 * seen.get(rid, 0)     # windows 1 s apart: the room's tail carried over from the one before
        np.testing.assert_allclose(audio, whole[rid][start:start + audio.size], atol=1e-4)
        seen[rid] = seen.get(rid, 0) + 1
        assert loudness.shape == dry_loudness.shape
    # the annotated f0 stays on its frames
    assert [f0.size for _, f0 in _records(wet / "train.tfrecord")] == [1000] * 9
    soundfile.write(str(tmp_path / "room.wav"), h, 16000, subtype="FLOAT")    # the same room written again
    mtime = (wet / "train.tfrecord").stat().st_mtime_ns
    data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "wet", room=tmp_path / "room.wav", **kwargs)
    assert (wet / "train.tfrecord").stat().st_mtime_ns == mtime                 # up to date: not built again
    monkeypatch.chdir(tmp_path)
    data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "wet", room="room.wav", **kwargs)    # by another path
    assert (wet / "train.tfrecord").stat().st_mtime_ns == mtime
    with pytest.raises(data.DatasetError, match="other settings"):      # a room is part of the dataset's settings
        data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "dry", room=tmp_path / "room.wav", **kwargs)
    # supervised dereverberation: the features of the recording in the room, the audio target without it
    target = data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "target", room=tmp_path / "room.wav",
                                dry_target=True, **kwargs)
    assert data.read_manifest(target)["params"]["room"]["target"] == "dry"
    assert all("the audio target is the recording without it" in " ".join(r["notes"])
               for r in data.read_manifest(target)["recordings"])
    for (_, audio, loudness), (_, dry_audio, _), (_, _, wet_loudness) in zip(
            _audio_records(target / "train.tfrecord"), dry_records, wet_records):
        np.testing.assert_array_equal(audio, dry_audio)
        np.testing.assert_array_equal(loudness, wet_loudness)
    assert not np.allclose(wet_records[1][2], dry_records[1][2], atol=0.5)    # (the room changes the loudness)
    with pytest.raises(data.DatasetError, match="give the room too"):
        data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "none", dry_target=True, **kwargs)


def test_a_folder_of_rooms_plays_each_recording_in_one_of_them(urmp_folder, tmp_path):
    from scipy.signal import oaconvolve

    from ttlib.audio.room import load_impulse_response, shoebox

    rooms = tmp_path / "rooms"
    (rooms / "more").mkdir(parents=True)
    soundfile.write(str(rooms / "small.wav"), shoebox(0.3, [5.0, 4.0, 3.0])[0], 16000, subtype="FLOAT")
    soundfile.write(str(rooms / "more" / "large.wav"), shoebox(0.8, [12.0, 9.0, 4.0])[0], 16000, subtype="FLOAT")
    (rooms / "README.txt").write_text("not a room")                     # other files are not rooms
    kwargs = dict(validation_fraction=0.0, cache_dir=None, progress=False, dry_target=True)
    built = data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "ds", room=rooms, seed=1, **kwargs)
    manifest = data.read_manifest(built)
    assert manifest["params"]["room"]["files"] == ["more/large.wav", "small.wav"]
    irs = {name: load_impulse_response(rooms / name) for name in manifest["params"]["room"]["files"]}
    named = {}
    for r in manifest["recordings"]:
        (name,) = [n for n in irs if f"played in the room {n} " in " ".join(r["notes"])]
        named[r["recording_id"]] = name
    assert set(named.values()) == set(irs)                      # (seed 1 draws both for these recordings)
    items, _ = sources.urmp_items(str(urmp_folder), "tpt", 250.0)
    wet = {item.recording_id: oaconvolve(item.audio, irs[named[item.recording_id]])[:item.audio.size]
           for item in items}
    features = {item.recording_id: data.features.loudness_db(wet[item.recording_id], 16000, 250.0)
                for item in items}
    dry = {item.recording_id: item.audio for item in items}
    seen = {}
    for rid, audio, loudness in _audio_records(built / "train.tfrecord"):
        start = seen.get(rid, 0)
        seen[rid] = start + 1
        np.testing.assert_array_equal(audio, dry[rid][16000 * start:16000 * start + audio.size])      # dry target
        np.testing.assert_allclose(loudness, features[rid][250 * start:250 * start + loudness.size], atol=1e-3)
    # the draw is the seed's: the same seed draws the same rooms again
    again = data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "again", room=rooms, seed=1, **kwargs)
    assert [r["notes"] for r in data.read_manifest(again)["recordings"]] == [r["notes"] for r in manifest["recordings"]]
    soundfile.write(str(rooms / "more" / "large.wav"), shoebox(1.0, [12.0, 9.0, 4.0])[0], 16000, subtype="FLOAT")
    with pytest.raises(data.DatasetError, match="other settings"):        # a room changed in the folder
        data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "ds", room=rooms, seed=1, **kwargs)
    # a folder without rooms, or with a bad one, is named and nothing is written
    (tmp_path / "empty").mkdir()
    with pytest.raises(data.DatasetError, match="No impulse responses"):
        data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "none", room=tmp_path / "empty", **kwargs)
    soundfile.write(str(rooms / "silent.wav"), np.zeros(1600), 16000)
    result = subprocess.run([sys.executable, "-m", "ttlib", "data", "build", "--source", f"urmp:{urmp_folder}",
                             "--out", str(tmp_path / "none"), "--room", str(rooms), "--dry-target"],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "silent.wav" in result.stderr and "silent" in result.stderr and not (tmp_path / "none").exists()


def test_a_bad_room_is_named_and_nothing_is_written(urmp_folder, tmp_path):
    from ttlib.core.errors import AudioError

    soundfile.write(str(tmp_path / "silent.wav"), np.zeros(1600), 16000)
    with pytest.raises(AudioError, match="silent"):
        data.build_dataset(f"urmp:{urmp_folder}", tmp_path / "ds", room=tmp_path / "silent.wav", cache_dir=None,
                           progress=False)
    assert not (tmp_path / "ds").exists()
    result = subprocess.run([sys.executable, "-m", "ttlib", "data", "build", "--source", f"urmp:{urmp_folder}",
                             "--out", str(tmp_path / "ds"), "--room", str(tmp_path / "missing.wav")],
                            capture_output=True, text=True)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "missing.wav" in result.stderr and not (tmp_path / "ds").exists()
    result = subprocess.run([sys.executable, "-m", "ttlib", "data", "build", "--source", f"urmp:{urmp_folder}",
                             "--out", str(tmp_path / "ds"), "--dry-target"], capture_output=True, text=True)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "--room" in result.stderr and not (tmp_path / "ds").exists()
