"""Meta-NER Table 6, Ours rows: the meta-learned Meta-NER run fine-tuned on x % of a target's
training sentences (xlt.methods.target_finetune)."""
from xlt.methods.target_finetune import build, rebuild  # noqa: F401
