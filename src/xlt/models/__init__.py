"""Neural taggers and their shared parts (CRF, Viterbi, char encoder, subword windows).

Submodules are imported on demand: ``xlt.models.crf`` and ``xlt.models.bilstm_crf`` need only
torch, while ``xlt.models.encoder_tagger`` pulls in transformers, which is slow to import.
"""
