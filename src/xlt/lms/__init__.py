"""Language-model pretraining (the DAG's LM stage): MLMA's bidirectional Transformer LM.

- ``bilm``: ``BiTransformerLM`` (per-language tied embeddings, shared forward and backward
  decoders, per-layer states for features);
- ``sampled_softmax``: Jean et al.'s sampled softmax with a log-uniform proposal;
- ``alignment``: the identical-strings, mean/variance and average-linkage losses.

Layer mixing of the frozen LM's states for a tagger lives with the models
(``xlt.models.layer_mix``).
"""
