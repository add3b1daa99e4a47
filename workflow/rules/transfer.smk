# Transfer stage: one rule per method. A model depends on (task, source, method, setting,
# seed) only, so it is trained once and evaluated on every target of its experiment.

rule train_source_mono:
    """Bari et al. 2020 Source-Mono: BiLSTM-CRF (random word embeddings, optional chars)."""
    input:
        unpack(run_inputs),
    output:
        metrics=f"{RUN_DIR}/metrics.json",
        predictions=f"{RUN_DIR}/predictions.parquet",
    params:
        run=run_params,
    log:
        f"{RUN_DIR}/train.log",
    wildcard_constraints:
        method="source_mono",
    threads: 2
    resources:
        mem_mb=4000,
        runtime=240,
    conda:
        "../../envs/xlt.yaml"
    script:
        "../scripts/train.py"


rule train_encoder_transfer:
    """Wu & Dredze 2019 model transfer: fine-tune a multilingual encoder on the source."""
    input:
        unpack(run_inputs),
    output:
        metrics=f"{RUN_DIR}/metrics.json",
        predictions=f"{RUN_DIR}/predictions.parquet",
    params:
        run=run_params,
        mirror_dirs=config["mirror_dirs"],
        prefer_gpu=config["prefer_gpu"],
    log:
        f"{RUN_DIR}/train.log",
    wildcard_constraints:
        method="encoder_transfer",
    threads: 2
    resources:
        mem_mb=12000,
        runtime=720,
        gpu=1,
    conda:
        "../../envs/xlt.yaml"
    script:
        "../scripts/train.py"
