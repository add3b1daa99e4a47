"""xlt: a reproducible benchmark for cross-lingual sequence labeling (NER and POS tagging).

All logic lives in this package; the Snakemake workflow only calls into it.
"""

__version__ = "0.1.0"
