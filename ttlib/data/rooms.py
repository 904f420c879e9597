"""Reverberant training data: recordings played in rooms before their features are computed.

`ttlib.data.dataset.build_dataset(..., room=...)` reads the room, or a folder of rooms
(`load_rooms`), and plays each whole recording in one (`play_in_room`), as the DDSP
paper's dereverberation experiment trains on reverberant recordings; with a dry target
the recording before the room stays the audio target. Notebook 10 (section 7).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ttlib.core.errors import DatasetError
from ttlib.core.units import SAMPLE_RATE


def load_rooms(room: str | os.PathLike) -> list:
    """The impulse responses of `room`, a file or a folder of them: [(name, [n_samples] unit energy)].

    A folder's audio files (`ttlib.audio.io.find_audio_files`, sorted by path, names
    relative to the folder) are each read as `ttlib.audio.room.load_impulse_response`.

    Raises:
      MissingFileError, AudioError: a room that is missing, not audio, silent or too long (named).
      DatasetError: a folder without audio files.
    """
    from ttlib.audio.io import AUDIO_EXTENSIONS, find_audio_files
    from ttlib.audio.room import load_impulse_response

    room = Path(room)
    if not room.is_dir():
        return [(room.name, load_impulse_response(room, SAMPLE_RATE))]
    files = find_audio_files(room)
    if not files:
        raise DatasetError(f"No impulse responses ({', '.join(AUDIO_EXTENSIONS)}) in the folder {room}. Give --room "
                           "an impulse response's file, or a folder of them.")
    return [(path.relative_to(room).as_posix(), load_impulse_response(path, SAMPLE_RATE)) for path in files]


def rooms_sha256(rooms: list) -> str:
    """One hash of the rooms' names and samples (a single room's: of its samples alone, as before)."""
    if len(rooms) == 1:
        return hashlib.sha256(rooms[0][1].tobytes()).hexdigest()
    digest = hashlib.sha256()
    for name, ir in rooms:
        digest.update(name.encode() + b"\0" + hashlib.sha256(ir.tobytes()).digest())
    return digest.hexdigest()


def play_in_room(items: list, rooms: list, keep_dry: bool = False, seed: int = 0) -> None:
    """Convolve each recording, whole, with an impulse response (unit energy), in place; same length.

    rooms: [(name, impulse response)] (`load_rooms`). With one, every recording is played
    in it; with several, each recording in one drawn at random (`seed`, in the items'
    order), so a model trained on them meets many rooms (a recording's notes name its room).
    Whole recordings, not examples: a note's reverberation carries on into the next
    example as it would in the hall. The length is kept (the tail after a recording's
    last sample is cut), so any given f0 stays on its frames; the notes say so.
    keep_dry: the recording as it was becomes the item's `target` (the features still
    come from the recording in the room).
    """
    from scipy.signal import oaconvolve

    choice = np.random.default_rng(seed).integers(len(rooms), size=len(items)) if len(rooms) > 1 else [0] * len(items)
    for item, k in zip(items, choice):
        name, impulse_response = rooms[int(k)]
        if keep_dry:
            item.target = item.audio
        item.audio = oaconvolve(item.audio, impulse_response)[:item.audio.size].astype(np.float32)
        item.notes.append(f"played in the room {name} ({impulse_response.size / SAMPLE_RATE:.2f} s impulse response)"
                          + ("; the audio target is the recording without it" if keep_dry else ""))
