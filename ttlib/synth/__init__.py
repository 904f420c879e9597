"""Synthesis: test tones with a known f0, and the synthesizers the models play through.

  tones     `sine`, `harmonic_tone` (ddsp's additive synthesizer), `tilt_gains` (a spectral tilt)
  harmonic  `harmonic_synthesis`, `fast_harmonic_class`: ddsp's harmonic synthesis as one
            matrix product per frame, phase in float64, chunkable without clicks
  noise     `seeded_noise_class`, `noise_generator`: filtered noise saved with the model
  reverb    `room_reverb_class`, `room_impulse_response`: a reverb that can only be a room
            (a learned T60 per octave band on fixed noise)

Tones are heard in notebooks 00-02; ddsp's synthesizers are derived in notebook 04.
"""
from ttlib.synth.harmonic import fast_harmonic_class, harmonic_synthesis
from ttlib.synth.noise import noise_generator, seeded_noise_class
from ttlib.synth.reverb import room_impulse_response, room_reverb_class
from ttlib.synth.tones import harmonic_tone, sine, tilt_gains

__all__ = ["fast_harmonic_class", "harmonic_synthesis", "harmonic_tone", "noise_generator", "room_impulse_response",
           "room_reverb_class", "seeded_noise_class", "sine", "tilt_gains"]
