"""The thresholds the course uses in more than one place, each defined once.

Loudness is ddsp's A-weighted loudness in dB (`ttlib.data.features.loudness_db`, notebook
04); levels are RMS in dB relative to full scale (a full-scale sine: -3 dB). Voicing is
met in notebooks 02-03, playing and silence in notebooks 05-08.
"""

VOICED_CONFIDENCE = 0.5
"""f0 confidence at or above which a frame counts as voiced (CREPE's and pYIN's scale):
in the training statistics, in evaluation, in transfer and in the experiment."""

LOUDNESS_FLOOR_DB = -80.0
"""ddsp's loudness of silence (its 80 dB range below 0 dB): what a silenced frame gets."""

PLAYING_DB = -70.0
"""Loudness above which a frame counts as playing (10 dB above ddsp's floor); an output
frame below it counts as silent."""

SILENT_RMS_DB = -60.0
"""RMS level (dB re full scale) at or below which a file or frame counts as silent."""

HIGH_PITCH_HZ = 1500.0
"""A source whose 95th-percentile f0 is above this is analysed an octave down by CREPE
(its bins stop near 2 kHz; whistles go higher)."""

PAPER_FFT_SIZES = (2048, 1024, 512, 256, 128, 64)
"""FFT sizes of the DDSP paper's multi-scale spectral loss: every model is measured with them."""
