"""Which (method, setting) pairs xlt builds.

Paper-table rows name methods from the vocabulary of docs/contracts.md §7; only the pairs
listed here are trained by the workflow, every other row renders as "not implemented".
"""
from __future__ import annotations

def _with_nochar(settings: set[str]) -> set[str]:
    """Bao's settings and their variants without the char-LSTM (en-de, en-zh NER; POS)."""
    return settings | {f"{s}_nochar" for s in settings}


_MLM_SETTINGS = _with_nochar({"sws", "fws"})
_MLMA_SETTINGS = _with_nochar({f"{lm}_{mix}" for lm in ("iden", "mv", "avl", "avl_init") for mix in ("sws", "fws")})
_MULTI_SETTINGS = _with_nochar({"avl_sws", "avl_fws"})


def _expand(prefixes: list[str], suffixes: list[str]) -> set[str]:
    return {f"{prefix}_{suffix}" for prefix in prefixes for suffix in suffixes}


# van der Heijden's subword embedders (Table 2), each also trained jointly (Table 3).
_HEIJDEN_FEATURES = ["bpe_bow", "bpe_gru", "laser_top", "laser_elmo", "lstm_nopre"]

IMPLEMENTED: dict[str, set[str]] = {
    "source_mono": {"char", "nochar", "char_monoemb", "nochar_monoemb", "glove"},
    # heijden / xlm: van der Heijden's BERT and XLM (linear head, fine-tuned whole); _joint_a/_b:
    # Table 3. XLM runs in the paper plan (no offline weights for the default plan).
    "encoder_transfer": {"default", "heijden", "heijden_joint_a", "heijden_joint_b", "xlm", "xlm_joint_a",
                         "xlm_joint_b"},
    "cross_word": {"char", "nochar"},
    "cross_shared": {"default"},
    "cross_augmented": {"default"},
    "muse_transfer": {"char", "nochar"},
    "mlm": _MLM_SETTINGS,
    "mlma": _MLMA_SETTINGS,
    "mlma_multi": _MULTI_SETTINGS,
    "heijden_tagger": {"muse", *_HEIJDEN_FEATURES, *_expand(["joint_a", "joint_b"], _HEIJDEN_FEATURES)},
    "data_transfer": {"default"},
    "unitrans": {"default", "no_soft", "no_hard", "teacher_src", "teacher_trans",
                 "no_unlabeled", "data_combination", "ensemble"},
    "metaner": {"default", "no_maxloss", "no_masking", "no_maxloss_masking"},
    "encoder_lowres": {"lowres_1", "lowres_2", "lowres_5"},
    "metaner_lowres": {"lowres_1", "lowres_2", "lowres_5"},
}


def is_implemented(method: str, setting: str | None = None) -> bool:
    """True when the workflow builds `method` (with `setting`, when one is given)."""
    settings = IMPLEMENTED.get(method)
    if settings is None:
        return False
    return setting is None or setting in settings


# The method vocabulary of docs/contracts.md §7: every name a paper-table row may use, built or
# not. xlt.tables rejects a row whose method/setting is not here, so typos fail at load time.
VOCABULARY: dict[str, set[str]] = {
    "source_mono": {"char", "nochar", "char_monoemb", "nochar_monoemb", "glove"},
    # xlm*: van der Heijden's XLM (xlm-mlm-tlm-xnli15-1024).
    "encoder_transfer": {"default", "heijden", "heijden_joint_a", "heijden_joint_b", "xlm", "xlm_joint_a",
                         "xlm_joint_b"},
    "muse_transfer": {"char", "nochar"},
    "cross_word": {"char", "nochar"},
    "cross_shared": {"default"},
    "cross_augmented": {"default"},
    "mlm": _MLM_SETTINGS,
    "mlma": _MLMA_SETTINGS,
    # Multi-source MLMA-Avl: a method of its own, as it trains one model per target.
    "mlma_multi": _MULTI_SETTINGS,
    "heijden_tagger": {"muse", *_HEIJDEN_FEATURES, *_expand(["joint_a", "joint_b"], _HEIJDEN_FEATURES)},
    "data_transfer": {"default"},
    "unitrans": {"default", "no_soft", "no_hard", "teacher_src", "teacher_trans",
                 "no_unlabeled", "data_combination", "ensemble"},
    "metaner": {"default", "no_maxloss", "no_masking", "no_maxloss_masking"},
    # Table 6: the base / meta-learned model fine-tuned on x % of a target's training set (one
    # model per target, so a method of its own: xlt.methods.target_finetune).
    "encoder_lowres": {"lowres_1", "lowres_2", "lowres_5"},
    "metaner_lowres": {"lowres_1", "lowres_2", "lowres_5"},
}


def in_vocabulary(method: str, setting: str | None = None) -> bool:
    """True when `method` (and `setting`, when given) is a name of contracts §7."""
    settings = VOCABULARY.get(method)
    if settings is None:
        return False
    return setting is None or setting in settings
