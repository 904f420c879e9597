"""Experiments that reproduce and extend published ones, each a subpackage notebook 08 (and its successors) runs.

  learned_encoder  a DDSP decoder conditioned on a z from CREPE's pretrained convolutions
                   instead of f0 and loudness (notebook 08)
"""
