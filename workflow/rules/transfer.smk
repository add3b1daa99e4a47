# Transfer stage, two steps per method that hand each other files:
#   train_<method>     (task, source, method, setting, seed) -> results/models/.../model.json
#                      + checkpoints/ (one safetensors file per evaluation point)
#   evaluate_<method>  saved model + one target's dev/test -> results/runs/.../<target>/metrics.json
# Training reads source data only, so a model is trained once and adding a target language
# adds that language's evaluation jobs, never a training job.
#
# Resources are the workflow's own needs (rule `resources:`); cluster settings (partitions,
# accounts) belong to the user's Slurm profile (profiles/slurm). GPU rules ask for `gpu=1`
# and fall back to the CPU where none is visible. Every model job uses a GPU it can see
# (config prefer_gpu); the word-level taggers ask Slurm for none: at their size one GPU
# shared by many of them is slower than their CPUs (benchmarks/bilstm_device.py), so on a
# GPU workstation run them with prefer_gpu: false. The BiLSTM-CRF models are small enough
# that a second thread buys little (their recurrences are sequential): one thread each lets
# two trainings share a 2-core machine, where two threads each would run them one by one.
# (--set-threads train_encoder_transfer=N gives a lone job more on a bigger machine.)
TRANSFER_METHODS = {
    # Bari et al. 2020 Source-Mono: BiLSTM-CRF (random word embeddings, optional chars).
    "source_mono": {
        "train": {"mem_mb": 4000, "runtime": 240},
        "evaluate": {"mem_mb": 2000, "runtime": 30},
        "train_threads": 1,
        "eval_threads": 1,
    },
    # Wu & Dredze 2019 model transfer: fine-tune a multilingual encoder on the source.
    # On a CPU, one thread each as well: a second thread made an evaluation 1.54x faster
    # (51 s -> 33 s, e5-small, POS es), so two one-thread jobs side by side get ~30% more
    # done on two cores than one two-thread job at a time.
    "encoder_transfer": {
        "train": {"mem_mb": 12000, "runtime": 720, "gpu": 1},
        "evaluate": {"mem_mb": 6000, "runtime": 60, "gpu": 1},
        "train_threads": 1,
        "eval_threads": 1,
    },
    # Bari et al. 2020 Cross-Word / Cross-Shared: the BiLSTM-CRF over frozen word vectors in
    # the common space of the source and one target (one model per target space). Memory
    # holds the vectors file while the words the data needs are picked out of it.
    "cross_word": {
        "train": {"mem_mb": 8000, "runtime": 240},
        "evaluate": {"mem_mb": 8000, "runtime": 30},
        "train_threads": 1,
        "eval_threads": 1,
    },
    "cross_shared": {
        "train": {"mem_mb": 8000, "runtime": 240},
        "evaluate": {"mem_mb": 8000, "runtime": 30},
        "train_threads": 1,
        "eval_threads": 1,
    },
    # Bao et al. 2019 MUSE*: one English BiLSTM-CRF over frozen vectors; each target is
    # scored over its vectors mapped onto English (the mapping is an evaluation input).
    "muse_transfer": {
        "train": {"mem_mb": 8000, "runtime": 480},
        "evaluate": {"mem_mb": 8000, "runtime": 30},
        "train_threads": 1,
        "eval_threads": 1,
    },
    # Bao et al. 2019 MLM / MLMA: the BiLSTM-CRF over a frozen LM's states, computed once per
    # job (training: the source's sentences; evaluation: the target's); multi-source MLMA
    # trains one model per target on the source and its co-sources.
    "mlm": {
        "train": {"mem_mb": 6000, "runtime": 480},
        "evaluate": {"mem_mb": 4000, "runtime": 30},
        "train_threads": 1,
        "eval_threads": 1,
    },
    "mlma": {
        "train": {"mem_mb": 6000, "runtime": 480},
        "evaluate": {"mem_mb": 4000, "runtime": 30},
        "train_threads": 1,
        "eval_threads": 1,
    },
    "mlma_multi": {
        "train": {"mem_mb": 6000, "runtime": 720},
        "evaluate": {"mem_mb": 4000, "runtime": 30},
        "train_threads": 1,
        "eval_threads": 1,
    },
    # van der Heijden et al. 2019: the Transformer-CRF over per-word features (MUSE vectors).
    "heijden_tagger": {
        "train": {"mem_mb": 8000, "runtime": 240},
        "evaluate": {"mem_mb": 8000, "runtime": 30},
        "train_threads": 1,
        "eval_threads": 1,
    },
    # Bari et al. 2020 Cross-Augmented: starts from the Cross-* runs of the same space and
    # seed; reads the target's unlabeled training sentences and both sides' vectors.
    "cross_augmented": {
        "train": {"mem_mb": 8000, "runtime": 480},
        "evaluate": {"mem_mb": 8000, "runtime": 30},
        "train_threads": 1,
        "eval_threads": 1,
    },
    # UniTrans (Wu et al. 2020): Data Transfer (the encoder tagger on the translated training
    # set) and the UniTrans stages (teacher, data combination, students), one model per
    # target; the same encoder jobs as model transfer.
    "data_transfer": {
        "train": {"mem_mb": 12000, "runtime": 720, "gpu": 1},
        "evaluate": {"mem_mb": 6000, "runtime": 60, "gpu": 1},
        "train_threads": 1,
        "eval_threads": 1,
    },
    "unitrans": {
        "train": {"mem_mb": 12000, "runtime": 720, "gpu": 1},
        "evaluate": {"mem_mb": 6000, "runtime": 60, "gpu": 1},
        "train_threads": 1,
        "eval_threads": 1,
    },
    # Meta-NER (Wu et al. 2020): first-order MAML over pseudo-meta-NER tasks (training), and
    # one adaptation step per test sentence (evaluation: per-sentence, so it costs more than
    # scoring a batch: ~15 sentences/s on one CPU thread at the default plan's size).
    # Its chain (representations -> meta-training -> per-sentence evaluation) holds the
    # plan's longest jobs: a priority starts them as soon as they are ready instead of last,
    # where one core idled beside them (the 1f23d23 plan run).
    "metaner": {
        "train": {"mem_mb": 12000, "runtime": 1440, "gpu": 1},
        "evaluate": {"mem_mb": 8000, "runtime": 240, "gpu": 1},
        "train_threads": 1,
        "eval_threads": 1,
        "priority": 10,
    },
    # Meta-NER Table 6: the base / meta-learned model fine-tuned on x % of one target's
    # training set (xlt.methods.target_finetune), one model per target.
    "encoder_lowres": {
        "train": {"mem_mb": 12000, "runtime": 240, "gpu": 1},
        "evaluate": {"mem_mb": 6000, "runtime": 60, "gpu": 1},
        "train_threads": 1,
        "eval_threads": 1,
    },
    "metaner_lowres": {
        "train": {"mem_mb": 12000, "runtime": 240, "gpu": 1},
        "evaluate": {"mem_mb": 6000, "runtime": 60, "gpu": 1},
        "train_threads": 1,
        "eval_threads": 1,
    },
}


for _method, _needs in TRANSFER_METHODS.items():

    rule:
        name:
            f"train_{_method}"
        input:
            unpack(train_inputs),
        output:
            model=f"{model_dir_pattern(_method)}/model.json",
            checkpoints=directory(f"{model_dir_pattern(_method)}/checkpoints"),
        params:
            run=run_params,
            mirror_dirs=config["mirror_dirs"],
            prefer_gpu=config["prefer_gpu"],
        log:
            f"{model_dir_pattern(_method)}/train.log",
        wildcard_constraints:
            method=_method,
        threads: _needs["train_threads"]
        priority: _needs.get("priority", 0)
        resources:
            **_needs["train"],
        conda:
            "../../envs/xlt.yaml"
        script:
            "../scripts/train.py"

    rule:
        name:
            f"evaluate_{_method}"
        input:
            unpack(eval_inputs),
        output:
            metrics=f"{EVAL_DIR}/metrics.json",
            predictions=f"{EVAL_DIR}/predictions.parquet",
        params:
            evaluation=eval_params,
            mirror_dirs=config["mirror_dirs"],
            prefer_gpu=config["prefer_gpu"],
        log:
            f"{EVAL_DIR}/evaluate.log",
        wildcard_constraints:
            method=_method,
        threads: _needs["eval_threads"]
        priority: _needs.get("priority", 0)
        resources:
            **_needs["evaluate"],
        conda:
            "../../envs/xlt.yaml"
        script:
            "../scripts/evaluate.py"
