"""The plan: which runs a config asks for, and the parameters of each.

Both plans (config/config.yaml, config/paper.yaml) go through this one reading, so the
Snakefile, the scripts and the tests agree on what a run is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from xlt.errors import ConfigError

EVAL_SPLITS = ("dev", "test")
# Method parameters read only by the per-target evaluation jobs: changing them never retrains.
EVAL_ONLY_PARAMS = frozenset({"selections", "adapt_lr", "adapt_steps"})
DEFAULT_SELECTIONS = ("src_dev", "tgt_dev", "last")


@dataclass(frozen=True)
class Experiment:
    task: str
    source: str
    targets: tuple[str, ...]
    method: str
    settings: tuple[str, ...]
    # The experiment's own seeds (a budget value for a costly method); None: the plan's.
    seeds: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Run:
    task: str
    source: str
    method: str
    setting: str
    seed: int
    # For methods that train one model per target (``Plan.per_target``): the target the model
    # is trained for, in whose common word space with the source (Bari's Cross-* models) or on
    # whose translated / unlabeled data (UniTrans); None for the others, whose one model
    # serves every target.
    space: str | None = None


#: How a word-space method's common space is made for a (source, target) pair (Bari et al.
#: 2020): source vectors mapped into the target's space, or target vectors into the source's
#: ("en ← ar"). Either way the model trains on source words and is applied to target words.
DIRECTIONS = ("source_to_target", "target_to_source")
#: How aligned vectors are made (:meth:`Plan.alignment`).
ALIGNMENTS = ("supervised", "unsupervised", "published")
#: Vector files a ``monolingual`` run may read besides the plan's own (``Plan.vectors_family``).
VECTOR_FAMILIES = (None, "glove")
#: Methods whose training can mix languages (``train_mix``: :meth:`Plan.train_mix`).
TRAIN_MIX_METHODS = ("heijden_tagger", "encoder_transfer")
#: Kinds of word embeddings a tagger over words reads (``Plan.word_embeddings``).
WORD_EMBEDDINGS = ("random", "monolingual", "aligned", "subword")


def run_ref(run: Any, where: str) -> tuple[str, str]:
    """``"method/setting"`` (a run named in config: base runs, required runs, teachers) as a pair."""
    method, _, setting = str(run).partition("/")
    if not setting:
        raise ConfigError(f"{where}: {run!r} is not 'method/setting'")
    return method, setting


def word_embeddings_kind(params: dict[str, Any], where: str) -> str:
    """The ``word_embeddings`` of a run's parameters (default ``random``), checked; the one
    reading of the key, for the plan (config time) and the methods (a job's hparams)."""
    kind = str(params.get("word_embeddings", "random"))
    if kind not in WORD_EMBEDDINGS:
        raise ConfigError(f"{where}: word_embeddings must be one of {list(WORD_EMBEDDINGS)}, got {kind!r}")
    return kind


class Plan:
    def __init__(self, config: dict[str, Any]):
        self.config = config
        self._experiments: dict[tuple[str, str, str], Experiment] = {}
        for raw in config["experiments"]:
            exp = Experiment(
                task=raw["task"],
                source=raw["source"],
                targets=tuple(raw["targets"]),
                method=raw["method"],
                settings=tuple(raw["settings"]),
                seeds=None if raw.get("seeds") is None else tuple(int(s) for s in raw["seeds"]),
            )
            key = (exp.task, exp.source, exp.method)
            if key in self._experiments:
                raise ConfigError(f"experiments: {key} is listed twice; merge its targets/settings")
            if exp.task not in config["tasks"]:
                raise ConfigError(f"experiments: unknown task {exp.task!r} (not in config tasks)")
            method_cfg = config["methods"].get(exp.method)
            if method_cfg is None:
                raise ConfigError(f"experiments: method {exp.method!r} has no entry under config methods")
            for setting in exp.settings:
                if setting not in method_cfg["settings"]:
                    raise ConfigError(
                        f"experiments: setting {setting!r} of method {exp.method!r} is not defined "
                        f"under methods.{exp.method}.settings"
                    )
            for setting in exp.settings:
                if self.word_embeddings(exp.method, setting) == "aligned":
                    self.alignment(exp.method, setting)  # fails early on a bad value
                if self.vectors_family(exp.method, setting) == "glove" and "glove" not in config["vectors"]:
                    raise ConfigError(f"experiments: {exp.method}/{setting} reads GloVe vectors; "
                                      "name their file under vectors.glove (resource, member)")
            for setting in exp.settings:
                self.train_mix(exp.method, setting, exp.source)  # fails early on a bad mix
            if self.per_target(exp.method) and exp.source in exp.targets:
                raise ConfigError(
                    f"experiments: {exp.method} trains one model per target from the source and "
                    f"that target; drop the source {exp.source!r} from its targets")
            if method_cfg.get("word_space") is not None:
                for target in exp.targets:
                    self.space_direction(exp.method, target)  # fails early on a bad value
            self._experiments[key] = exp
        for exp in self._experiments.values():
            self._check_base_runs(exp)
            self._check_requires(exp)

    def base_runs(self, method: str, setting: str) -> list[tuple[str, str]]:
        """(method, setting) of the trained runs a method starts from (Cross-Augmented's
        ``base_runs``: the Cross-* models of the same space and seed); empty for the others."""
        return [run_ref(run, f"methods.{method}.params.base_runs")
                for run in self.method_params(method, setting).get("base_runs") or []]

    def _check_base_runs(self, exp: Experiment) -> None:
        for setting in exp.settings:
            for base_method, base_setting in self.base_runs(exp.method, setting):
                base = self._experiments.get((exp.task, exp.source, base_method))
                if base is None or base_setting not in base.settings or not self.word_space(base_method):
                    raise ConfigError(
                        f"experiments: {exp.method} starts from {base_method}/{base_setting}, which needs "
                        f"its own experiment (task {exp.task}, source {exp.source}, a word-space method)")
                missing = [t for t in exp.targets if t not in base.targets]
                if missing:
                    raise ConfigError(f"experiments: {exp.method} targets {missing}, which its base "
                                      f"{base_method}/{base_setting} does not train")
                for target in exp.targets:
                    if self.space_direction(base_method, target) != self.space_direction(exp.method, target):
                        raise ConfigError(f"{exp.method} and its base {base_method} map {target} in "
                                          "different directions: they must share the word space")

    def requires(self, method: str) -> list[tuple[str, str]]:
        """(method, setting) of the runs whose models a method reads (``requires``: UniTrans
        reads the model-transfer and data-transfer models), of the same task, source and seed."""
        return [run_ref(run, f"methods.{method}.requires") for run in self.config["methods"][method].get("requires") or []]

    def teachers(self, method: str) -> dict[str, tuple[str, str]]:
        """A distilling method's teachers (``teachers``: UniTrans' src, trans, teach) -> the
        (method, setting) run that is each."""
        return {name: run_ref(run, f"methods.{method}.teachers.{name}")
                for name, run in (self.config["methods"][method].get("teachers") or {}).items()}

    def start_run(self, method: str, setting: str) -> tuple[str, str] | None:
        """(method, setting) of the trained run a run starts from (``start_from``: Meta-NER's
        low-resource fine-tuning of the meta-learned or the base model), same task, source
        and seed; None for a run that starts from the pretrained weights."""
        ref = self.method_params(method, setting).get("start_from")
        return None if ref is None else run_ref(ref, f"methods.{method} (setting {setting!r}): start_from")

    def _check_requires(self, exp: Experiment) -> None:
        for setting in exp.settings:
            own = self.method_params(exp.method, setting).get("teacher_seeds")
            if own is not None and not (self.method_params(exp.method, setting).get("ensemble") and own):
                raise ConfigError(f"methods.{exp.method} (setting {setting!r}): teacher_seeds names the teachers "
                                  "of an ensemble (ensemble: true) and must list at least one seed")
            start = self.start_run(exp.method, setting)
            if start is None:
                continue
            base = self._experiments.get((exp.task, exp.source, start[0]))
            if base is None or start[1] not in base.settings or self.per_target(start[0]):
                raise ConfigError(f"experiments: {exp.method}/{setting} starts from {start[0]}/{start[1]}, which "
                                  f"needs its own experiment (task {exp.task}, source {exp.source}, one model "
                                  "for every target)")
            missing = sorted(set(self.seeds(exp)) - set(self.seeds(base)))
            if missing:
                raise ConfigError(f"experiments: {exp.method}/{setting} starts from the {start[0]}/{start[1]} run of "
                                  f"the same seed, and that experiment trains no seed {missing}")
        required = self.requires(exp.method)
        for name, (other, setting) in self.teachers(exp.method).items():
            # A distilling method's teachers are trained runs of the plan: its own settings
            # (UniTrans' Θ_teach) or runs it requires (Θ_src, Θ_trans).
            own = other == exp.method and setting in exp.settings
            if not own and (other, setting) not in required:
                raise ConfigError(f"methods.{exp.method}.teachers.{name}: {other}/{setting} is neither one "
                                  f"of the experiment's settings {list(exp.settings)} nor in requires")
        for other, setting in required:
            dep = self._experiments.get((exp.task, exp.source, other))
            if dep is None or setting not in dep.settings:
                raise ConfigError(f"experiments: {exp.method} reads the {other}/{setting} models, which "
                                  f"need their own experiment (task {exp.task}, source {exp.source})")
            missing_seeds = sorted(set(self.seeds(exp)) - set(self.seeds(dep)))
            if missing_seeds:
                raise ConfigError(f"experiments: {exp.method} reads the {other}/{setting} models of its seeds, "
                                  f"and that experiment trains no seed {missing_seeds}")
            if self.per_target(other):
                missing = [t for t in exp.targets if t not in dep.targets]
                if missing:
                    raise ConfigError(f"experiments: {exp.method} targets {missing}, for which "
                                      f"{other}/{setting} trains no model")

    def per_target(self, method: str) -> bool:
        """Whether a method trains one model per target: over the common word space of the
        source and that target (``word_space``), or on data made for it (``per_target: true``:
        the translated training set, the target's unlabeled sentences)."""
        # A method the plan does not configure has no runs (its rules still exist): not per target.
        cfg = self.config["methods"].get(method, {})
        return cfg.get("word_space") is not None or bool(cfg.get("per_target"))

    def experiments(self) -> list[Experiment]:
        return list(self._experiments.values())

    def experiment(self, task: str, source: str, method: str) -> Experiment:
        try:
            return self._experiments[(task, source, method)]
        except KeyError:
            raise ConfigError(f"no experiment for task={task} source={source} method={method}") from None

    def runs(self) -> Iterator[Run]:
        for exp in self._experiments.values():
            for setting in exp.settings:
                spaces = self.setting_targets(exp, setting) if self.per_target(exp.method) else (None,)
                for seed in self.seeds(exp):
                    for space in spaces:
                        yield Run(exp.task, exp.source, exp.method, setting, int(seed), space)

    def setting_targets(self, exp: Experiment, setting: str) -> tuple[str, ...]:
        """The experiment's targets a setting is scored on: those of the setting's
        ``languages`` when it names some (vectors that exist for those alone; a setting a paper
        uses for some targets only, per task when ``languages`` maps task -> languages)."""
        languages = self.method_params(exp.method, setting).get("languages")
        if isinstance(languages, dict):
            languages = languages.get(exp.task)
        return exp.targets if languages is None else tuple(t for t in exp.targets if t in languages)

    def seeds(self, exp: Experiment) -> tuple[int, ...]:
        """The seeds an experiment trains: its own ``seeds`` or the plan's."""
        return exp.seeds if exp.seeds is not None else tuple(int(s) for s in self.config["seeds"])

    def ensemble_seeds(self, exp: Experiment, setting: str) -> tuple[int, ...]:
        """The seeds of the teachers an ensemble setting (``ensemble: true``, UniTrans Eq. 14)
        averages: its ``teacher_seeds`` (M, a budget value: the ensemble's teachers are trained
        at those seeds, the other settings at the experiment's) or the experiment's seeds."""
        params = self.method_params(exp.method, setting)
        own = params.get("teacher_seeds")
        return self.seeds(exp) if own is None else tuple(int(s) for s in own)

    def run_targets(self, run: Run) -> tuple[str, ...]:
        """The targets a run's model is scored on: its own target, or all of them (those
        of the setting's ``languages`` when it names some: vectors that exist for those alone)."""
        if run.space is not None:
            return (run.space,)
        return self.setting_targets(self.experiment(run.task, run.source, run.method), run.setting)

    def co_sources(self, method: str, setting: str, target: str | None) -> list[str]:
        """Further source languages a multi-source run trains on for ``target`` (``co_sources``,
        Bao's multi-source MLMA: es and de from en + nl, nl from en + es)."""
        co = self.method_params(method, setting).get("co_sources")
        if co is None:
            return []
        if target is None or target not in co:
            raise ConfigError(f"methods.{method}.co_sources names no co-source for target {target!r}")
        return list(co[target])

    def train_mix(self, method: str, setting: str, source: str) -> dict[str, float]:
        """The languages a joint-training run trains on and the share of each one's training
        split (``train_mix``, van der Heijden's scenarios A and B; :mod:`xlt.methods.training_mix`);
        empty for a run trained on its source alone."""
        from xlt.methods.training_mix import check_train_mix

        mix = self.method_params(method, setting).get("train_mix")
        if mix is None:
            return {}
        where = f"methods.{method}.settings.{setting}"
        if method not in TRAIN_MIX_METHODS:
            raise ConfigError(f"{where}: train_mix (joint training) is built for {', '.join(TRAIN_MIX_METHODS)}, "
                              f"not {method}")
        if self.per_target(method):
            raise ConfigError(f"{where}: a joint-training run serves every target; per_target must be off")
        return check_train_mix(mix, source, where)

    def lm_group(self, method: str, setting: str, source: str, target: str | None) -> list[str]:
        """The languages of the LM a CLCR run reads (``target``: the run's space, or None in
        the training job of a method with one model for all targets): the plan-wide LM of
        ``lms.languages``, else the run's own (the source, co-sources and target: one LM per
        language pair as in the paper, which needs a model per target: ``per_target``)."""
        shared = self.config["lms"].get("languages")
        if shared is not None:
            needed = {source, *([] if target is None else [target, *self.co_sources(method, setting, target)])}
            missing = sorted(needed - set(shared))
            if missing:
                raise ConfigError(f"methods.{method} ({setting}) reads an LM of {missing}, which lms.languages "
                                  f"{list(shared)} lacks")
            return sorted(shared)
        if target is None or not self.per_target(method):
            raise ConfigError(f"methods.{method}: with lms.languages null every LM is one language pair's, "
                              "so the method needs per_target: true (a model per target)")
        return sorted({source, target, *self.co_sources(method, setting, target)})

    def vectors_family(self, method: str, setting: str) -> str | None:
        """Which vectors a ``monolingual`` run reads: the plan's (None: trained, or fastText's
        wiki.<lang>.vec under ``vectors.source: pretrained``) or ``glove`` (GloVe 6B, English)."""
        family = self.method_params(method, setting).get("vectors")
        if family not in VECTOR_FAMILIES:
            raise ConfigError(f"methods.{method} (setting {setting!r}): vectors {family!r} is not one of "
                              f"{[f for f in VECTOR_FAMILIES if f]} (or leave it out)")
        return family

    def word_embeddings(self, method: str, setting: str) -> str:
        """What a run's word embeddings are (``word_embeddings`` in its params):

        - ``random``: a table over the training words, trained (a target gets its own);
        - ``monolingual``: each language's own vectors, frozen: trained on the source's,
          scored with each target's (Bari's Source-Mono "mono-lingual word-emb");
        - ``aligned``: the source's own vectors in training; each target scored with its
          vectors in the source's space (``alignment``: a MUSE mode, or published), so one
          source model serves every target (Bao et al.'s MUSE* direct transfer);
        - ``subword``: no word table: words are read through a sentence encoder's subword
          pieces (van der Heijden et al.'s BPE and LASER embedders; input ``laser``).
        """
        return word_embeddings_kind(self.method_params(method, setting), f"methods.{method} (setting {setting!r})")

    def alignment(self, method: str, setting: str) -> str:
        """How each target's vectors come into the source's space (``word_embeddings:
        aligned``): ``supervised`` / ``unsupervised``, the workflow's own MUSE map of the
        target onto the source; ``published``, the published MUSE aligned vectors of both
        languages (catalog ``muse_aligned_<lang>``, the ``wiki.multi`` files)."""
        mode = self.method_params(method, setting).get("alignment")
        if mode not in ALIGNMENTS:
            raise ConfigError(f"methods.{method}: word_embeddings: aligned needs alignment: "
                              f"{', '.join(ALIGNMENTS)} (setting {setting!r} has {mode!r})")
        return mode

    def word_space(self, method: str) -> dict[str, Any] | None:
        """The method's ``word_space:`` config (mapping mode, direction per target), or None
        for methods that do not read mapped word vectors."""
        return self.config["methods"][method].get("word_space")

    def space_direction(self, method: str, target: str) -> str:
        """``source_to_target`` or ``target_to_source`` for ``target`` (its own entry, else
        ``default``)."""
        directions = (self.word_space(method) or {}).get("direction", {})
        direction = directions.get(target, directions.get("default"))
        if direction not in DIRECTIONS:
            raise ConfigError(f"methods.{method}.word_space.direction: {target!r} gets {direction!r}; "
                              f"set it (or default) to one of {list(DIRECTIONS)}")
        return direction

    def task(self, task: str) -> dict[str, Any]:
        return self.config["tasks"][task]

    def catalog_task(self, task: str) -> str:
        """The catalog's corpora a task reads: its ``corpus`` key, else its own name. Lets
        a task reuse corpora under another label set (Meta-NER's MISC -> O for fr/zh)."""
        return self.config["tasks"][task].get("corpus", task)

    def method_params(self, method: str, setting: str) -> dict[str, Any]:
        """Method parameters with the setting's overrides applied (setting wins)."""
        cfg = self.config["methods"][method]
        return {**cfg["params"], **cfg["settings"][setting]}

    def training_params(self, method: str, setting: str) -> dict[str, Any]:
        """The parameters that shape a trained model: all but the evaluation-only keys."""
        return {k: v for k, v in self.method_params(method, setting).items() if k not in EVAL_ONLY_PARAMS}

    def evaluation_params(self, method: str, setting: str) -> dict[str, Any]:
        """The evaluation-only parameters a scoring job hands the method (all but selections)."""
        return {k: v for k, v in self.method_params(method, setting).items()
                if k in EVAL_ONLY_PARAMS and k != "selections"}

    def selections(self, method: str, setting: str) -> list[str]:
        return list(self.method_params(method, setting).get("selections", DEFAULT_SELECTIONS))

    def max_sentences(self, split: str, method: str | None = None) -> int | None:
        """The plan's cap on a split (first N sentences; None: all), or ``method``'s own
        (``methods.<method>.max_sentences``: a budget value for a costly method's training)."""
        if method is not None:
            own = self.config["methods"][method].get("max_sentences") or {}
            if split in own:
                return own[split]
        return self.config.get("data", {}).get("max_sentences", {}).get(split)

    def eval_splits(self, task: str, lang: str, catalog) -> list[str]:
        """dev/test splits the catalog has for a target (MSRA has no dev, for instance)."""
        return [s for s in EVAL_SPLITS if catalog.has_corpus(self.catalog_task(task), lang, s)]

    def describe(self) -> str:
        """One paragraph saying what made "ours" in every table: the plan, its stand-ins
        (``plan_note``), sentence caps, seeds and each method's size-defining settings."""
        cfg = self.config
        caps = cfg.get("data", {}).get("max_sentences", {})
        if any(caps.get(split) for split in ("train", "dev", "test")):
            capped = "runs read the first " + " / ".join(
                f"{caps[s] if caps.get(s) else 'all'} {s}" for s in ("train", "dev", "test")) + " sentences"
        else:
            capped = "full corpora"
        seeds = [int(s) for s in cfg["seeds"]]
        parts = [f"plan '{cfg['plan']}'", f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} "
                 f"({', '.join(map(str, seeds))})", capped]
        for method in sorted({exp.method for exp in self._experiments.values()}):
            params = cfg["methods"][method]["params"]
            facts = []
            if "encoder" in params:  # a truncated or mixed-precision encoder is a stand-in: say so
                layers, autocast = params.get("encoder_layers"), params.get("autocast")
                kept = [f"its bottom {layers} layers"] if layers else []
                kept += [f"{autocast} autocast"] if autocast else []
                facts.append(str(params["encoder"]) + (f" ({', '.join(kept)})" if kept else ""))
            own_caps = cfg["methods"][method].get("max_sentences") or {}
            if params.get("train_data") == "target":  # Meta-NER Table 6: a sample of the whole split
                facts.append("fine-tuned on a seeded sample of the target's train split")
            elif any(own_caps.values()):
                facts.append("trained on the first " + " / ".join(
                    f"{n if n else 'all'} {split}" for split, n in own_caps.items()) + " sentences")
            exps = [exp for exp in self._experiments.values() if exp.method == method]
            own = [exp for exp in exps if exp.seeds is not None and set(exp.seeds) != set(seeds)]
            for tasks in sorted({tuple(exp.seeds) for exp in own}):
                on = sorted({exp.task for exp in own if tuple(exp.seeds) == tasks})
                facts.append(f"seed{'s' if len(tasks) > 1 else ''} {', '.join(map(str, sorted(tasks)))}"
                             + ("" if len(own) == len(exps) else f" on {', '.join(on)}"))
            ensembles = sorted({self.ensemble_seeds(exp, s) for exp in exps for s in exp.settings
                                if self.method_params(method, s).get("ensemble")})
            facts += [f"ensemble of the teachers of seed{'s' if len(m) > 1 else ''} {', '.join(map(str, m))}"
                      for m in ensembles if set(m) != set(seeds)]
            if "meta_steps" in params:
                facts.append(f"{params['meta_steps']} meta-updates of {params['tasks_per_update']} tasks "
                             f"at α {params['lr_inner']:g}, β {params['lr_meta']:g}")
            elif "epochs" in params:
                facts.append(f"{params['epochs']} epochs")
            if params.get("eval_every") == "end":
                facts.append("the final model only")
            elif params.get("eval_every"):
                facts.append(f"evaluated every {params['eval_every']} updates")
            parts.append(f"{method}: {', '.join(facts)}" if facts else method)
        text = "; ".join(parts) + "."
        if cfg.get("plan_note"):
            text += " " + " ".join(str(cfg["plan_note"]).split())
        return text

    def describe_vectors(self) -> str:
        """What made the vectors and mappings: source of the vectors, their training and the
        mapping budget (printed under the mapping table)."""
        cfg = self.config
        vectors, mapping = cfg.get("vectors", {}), cfg.get("mapping", {})
        if vectors.get("source") == "pretrained":
            made = "pretrained fastText wiki.<lang>.vec vectors"
        else:
            p = vectors.get("params", {})
            made = (f"vectors trained per language (gensim fastText skip-gram, {p.get('dim')}-d, "
                    f"{p.get('epochs')} epochs, min_count {p.get('min_count')}) on the mirror's "
                    f"monolingual text plus the {', '.join(vectors.get('text_tasks', []))} train tokens")
        budget = "; ".join(f"{mode}: {', '.join(f'{k}={v}' for k, v in sorted(mapping.get(mode, {}).items()))}"
                           for mode in ("supervised", "unsupervised") if mode in mapping)
        return f"plan '{cfg['plan']}'; {made}; MUSE defaults except {budget or 'nothing'}."

    def check_corpora(self, catalog) -> None:
        """Every experiment's source has a train and a dev split and every target a test split
        in the catalog; otherwise the DAG would schedule runs with nothing to train or score on."""
        for exp in self._experiments.values():
            task = self.catalog_task(exp.task)
            needed = [(exp.source, "train"), (exp.source, "dev")] + [(t, "test") for t in exp.targets]
            if any(self.method_params(exp.method, s).get("train_data") == "target" for s in exp.settings):
                needed += [(t, "train") for t in exp.targets]  # fine-tuned on the target's own labels
            needed += [(lang, "train") for s in exp.settings for lang in self.train_mix(exp.method, s, exp.source)
                       if lang != exp.source]  # joint training: the other languages' train splits
            missing = [f"{lang} {split}" for lang, split in needed if not catalog.has_corpus(task, lang, split)]
            if missing:
                raise ConfigError(f"experiments: {exp.task} {exp.source} -> {list(exp.targets)} "
                                  f"({exp.method}) needs corpora the catalog does not have for task "
                                  f"{task!r}: {', '.join(missing)}")

    def data_keys(self, catalog) -> set[tuple[str, str, str]]:
        keys: set[tuple[str, str, str]] = set()
        for exp in self._experiments.values():
            keys.add((exp.task, exp.source, "train"))
            keys.add((exp.task, exp.source, "dev"))
            for setting in exp.settings:
                keys.update((exp.task, lang, "train") for lang in self.train_mix(exp.method, setting, exp.source))
            for lang in exp.targets:
                for split in self.eval_splits(exp.task, lang, catalog):
                    keys.add((exp.task, lang, split))
        return keys
