# Meta-NER's sentence representations (Wu et al. 2020): the pretrained encoder's last-layer
# [CLS] vector of each sentence of a table, computed once and read as a file:
#   results/representations/{method}/{task}/{lang}/{split}.safetensors
# The source's training sentences (support sets in meta-training, and the sentences a test
# sentence adapts on) and each target's evaluation splits; every setting of the method and
# every seed reads the same files. The meta-training and adaptation themselves are the
# train_metaner / evaluate_metaner jobs (transfer.smk): xlt.methods.metaner.


rule sentence_representations:
    """[CLS] vectors of a table's first N sentences (N: the cap the method's jobs read)."""
    input:
        table="results/data/{task}/{lang}/{split}.parquet",
    output:
        representations_file("{method}", "{task}", "{lang}", "{split}"),
    params:
        encoding=lambda wc: representation_params(wc.method),
        max_sentences=lambda wc: representation_cap(wc.method, wc.split),
        mirror_dirs=config["mirror_dirs"],
        prefer_gpu=config["prefer_gpu"],
    log:
        "results/logs/representations/{method}/{task}/{lang}/{split}.log",
    wildcard_constraints:
        split=r"train|dev|test",
    threads: 1
    # First link of the Meta-NER chain (transfer.smk: priority).
    priority: 10
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=1,
    conda:
        "../../envs/xlt.yaml"
    script:
        "../scripts/sentence_representations.py"
