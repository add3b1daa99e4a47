"""MLMA's language model, sampled softmax, alignment losses and layer mixing (Bao et al. 2019)."""

import itertools

import pytest
import torch

from xlt.lms.alignment import (
    average_linkage_loss,
    identical_strings_loss,
    mean_variance_loss,
)
from xlt.lms.bilm import BOS, EOS, PAD, BiTransformerLM
from xlt.lms.sampled_softmax import full_softmax_nll, log_uniform_probs, sampled_softmax_nll
from xlt.models.layer_mix import FullyWeightedSum, SelfWeightedSum


@pytest.fixture()
def lm() -> BiTransformerLM:
    torch.manual_seed(0)
    model = BiTransformerLM({"en": 30, "es": 25}, d_model=16, layers=2, heads=2, ffn=32, dropout=0.0)
    return model.eval()


def _sentence(*words: int) -> list[int]:
    return [BOS, *words, EOS]


def test_forward_states_see_only_the_left_and_backward_only_the_right(lm) -> None:
    ids = torch.tensor([_sentence(5, 6, 7, 8, 9)])
    changed = ids.clone()
    k = 3  # change word w_3 (position 3)
    changed[0, k] = 12
    fwd, bwd = lm.directional_states("en", ids)
    fwd2, bwd2 = lm.directional_states("en", changed)
    for layer in range(1, lm.n_layers + 1):
        # Forward: positions before k do not move, k and after do.
        assert torch.allclose(fwd[layer][0, :k], fwd2[layer][0, :k])
        assert not torch.allclose(fwd[layer][0, k:], fwd2[layer][0, k:])
        # Backward: positions after k do not move, k and before do.
        assert torch.allclose(bwd[layer][0, k + 1 :], bwd2[layer][0, k + 1 :])
        assert not torch.allclose(bwd[layer][0, : k + 1], bwd2[layer][0, : k + 1])


def test_padding_changes_no_real_state(lm) -> None:
    short = _sentence(5, 6, 7)
    alone = lm.layer_states("en", torch.tensor([short]))
    batch = torch.tensor([short + [PAD, PAD], _sentence(8, 9, 10, 11, 12)])
    padded = lm.layer_states("en", batch)
    assert padded.shape == (lm.n_layers + 1, 2, 7, 32)
    assert torch.allclose(alone[:, 0], padded[:, 0, : len(short)], atol=1e-5)
    assert torch.isfinite(padded).all()


def test_languages_share_layers_but_not_embeddings(lm) -> None:
    ids = torch.tensor([_sentence(5, 6, 7)])
    assert not torch.allclose(lm.layer_states("en", ids), lm.layer_states("es", ids))
    with torch.no_grad():
        lm.embeddings["es"].weight.copy_(lm.embeddings["en"].weight[:25])
    assert torch.allclose(lm.layer_states("en", ids), lm.layer_states("es", ids))
    with pytest.raises(KeyError, match="'fr'"):
        lm.layer_states("fr", ids)


def test_lm_loss_predicts_next_forward_and_previous_backward(lm) -> None:
    ids = torch.tensor([_sentence(5, 6, 7), _sentence(8, 9) + [PAD]])
    fwd, bwd = lm.lm_loss("en", ids)
    weight = lm.embeddings["en"].weight
    f_states, b_states = lm.directional_states("en", ids)
    logp_f = torch.log_softmax(f_states[-1] @ weight.T, -1)
    logp_b = torch.log_softmax(b_states[-1] @ weight.T, -1)
    expect_f, expect_b = [], []
    for row, length in ((0, 5), (1, 4)):
        expect_f += [-logp_f[row, t, ids[row, t + 1]] for t in range(length - 1)]
        expect_b += [-logp_b[row, t, ids[row, t - 1]] for t in range(1, length)]
    assert torch.allclose(fwd, torch.stack(expect_f).mean())
    assert torch.allclose(bwd, torch.stack(expect_b).mean())


def test_sampled_softmax_approaches_the_full_softmax_as_samples_grow() -> None:
    torch.manual_seed(0)
    vocab, dim = 50, 8
    weight = torch.randn(vocab, dim)
    states = torch.randn(64, dim)
    targets = torch.randint(0, vocab, (64,))
    full = full_softmax_nll(states, weight, targets)
    gaps = []
    for num_sampled in (5, 40, 2000):
        gen = torch.Generator().manual_seed(1)
        losses = [sampled_softmax_nll(states, weight, targets, num_sampled, gen) for _ in range(20)]
        gaps.append(abs(torch.stack(losses).mean() - full).item())
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-3  # every word drawn, expected counts ~1: the full softmax
    assert torch.isclose(log_uniform_probs(vocab).sum(), torch.tensor(1.0))
    # A sample at least the vocabulary is the exact loss, smoothing included.
    assert torch.equal(sampled_softmax_nll(states, weight, targets, vocab, label_smoothing=0.1),
                       full_softmax_nll(states, weight, targets, label_smoothing=0.1))


def test_sampled_softmax_removes_accidental_hits_and_smooths_over_candidates() -> None:
    weight = torch.eye(4)
    states = torch.tensor([[5.0, 0, 0, 0]])
    targets = torch.tensor([0])
    gen = torch.Generator().manual_seed(0)
    loss = sampled_softmax_nll(states, weight, targets, 3, gen)
    assert torch.isfinite(loss) and loss >= 0
    smoothed = sampled_softmax_nll(states, weight, targets, 3, torch.Generator().manual_seed(0), label_smoothing=0.5)
    assert smoothed > loss  # mass moved off the (dominant) true word


def _clouds(seed: int, n: int = 30, dim: int = 6, layers: int = 3, shift: float = 0.0):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(n, dim, generator=gen) + shift for _ in range(layers)]


@pytest.mark.parametrize("loss", [mean_variance_loss, average_linkage_loss])
def test_distribution_losses_are_zero_for_identical_sets_and_positive_otherwise(loss) -> None:
    s = _clouds(0)
    assert loss(s, [h.clone() for h in s]).abs() < 1e-6
    assert loss(s, _clouds(0, shift=1.0)) > 1e-3
    assert loss(s, _clouds(1)) > 0
    # Shrinking the target cloud to its mean is not a way out.
    assert loss(s, [h.mean(0, keepdim=True).expand_as(h) for h in s]) > 1e-3


def test_average_linkage_equals_brute_force_and_has_finite_gradients() -> None:
    s, t = _clouds(2, n=5, layers=2), _clouds(3, n=4, layers=2)
    s = [h.requires_grad_() for h in s]

    def avl(x, y):
        return sum(torch.dist(a, b) for a, b in itertools.product(x, y)) / (len(x) * len(y))

    brute = sum(0.7 * (2 * avl(hs, ht) - avl(hs, hs) - avl(ht, ht)) for hs, ht in zip(s, t))
    fast = average_linkage_loss(s, t, weight=0.7)
    assert torch.allclose(fast, brute, atol=1e-5)
    fast.backward()
    assert all(torch.isfinite(h.grad).all() for h in s)


def test_mean_variance_matches_its_formula() -> None:
    s, t = _clouds(4, layers=2), _clouds(5, layers=2)
    expect = 0.0
    for hs, ht in zip(s, t):
        ms, mt, vs, vt = hs.mean(0), ht.mean(0), hs.var(0, unbiased=False), ht.var(0, unbiased=False)
        expect += 0.1 * (ms - mt).norm() / (ms.abs().sum() + mt.abs().sum())
        expect += 0.01 * (vs - vt).norm() / (vs.abs().sum() + vt.abs().sum())
    assert torch.allclose(mean_variance_loss(s, t), expect)
    with pytest.raises(ValueError, match="3 layer weights for 2 layers"):
        mean_variance_loss(s, t, mean_weight=[0.1, 0.1, 0.1])


def test_identical_strings_loss() -> None:
    emb_s, emb_t = torch.randn(10, 4), torch.randn(8, 4)
    ids_s, ids_t = torch.tensor([1, 4]), torch.tensor([2, 7])
    expect = 100 * ((emb_s[1] - emb_t[2]).norm() + (emb_s[4] - emb_t[7]).norm()) / 2
    assert torch.allclose(identical_strings_loss(emb_s, emb_t, ids_s, ids_t), expect)
    emb_t[2], emb_t[7] = emb_s[1], emb_s[4]
    assert identical_strings_loss(emb_s, emb_t, ids_s, ids_t) == 0
    with pytest.raises(ValueError, match="no identical strings"):
        identical_strings_loss(emb_s, emb_t, ids_s[:0], ids_t[:0])


def test_layer_mixing_weights_are_distributions() -> None:
    torch.manual_seed(0)
    states = torch.randn(2, 5, 4, 6)  # (B, T, n + 1, D)
    sws = SelfWeightedSum(4, 6, hidden=8)
    weights = sws.layer_weights(states)
    assert weights.shape == (2, 5, 4)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 5))
    assert torch.allclose(sws(states), (weights.unsqueeze(-1) * states).sum(-2))
    fws = FullyWeightedSum(4, 6)
    assert torch.allclose(fws(states), states.mean(-2))  # zeros: the plain mean of the layers
    with torch.no_grad():
        fws.logits.normal_()
    assert torch.allclose(fws.layer_weights().sum(0), torch.ones(6))
    assert fws(states).shape == (2, 5, 6)


def test_lm_vocab_is_lowercased_frequency_ranked_and_round_trips(tmp_path) -> None:
    from xlt.errors import InputError
    from xlt.lms.vocab import SPECIALS, LMVocab, identical_strings

    en = LMVocab.build([["The", "cat"], ["the", "dog"], ["a", "cat", "The"]], max_size=6)
    assert en.tokens == SPECIALS + ("the", "cat")  # the 3, cat 2; capped at 6 with the specials
    assert en.encode(["THE", "bird"]) == [BOS, 4, 3, EOS]  # unknown -> <unk> (3)
    es = LMVocab.build([["el", "gato"], ["cat", "el"]])
    assert identical_strings(en, es) == ([5], [es.index["cat"]])
    en.save(tmp_path / "en.json")
    assert LMVocab.load(tmp_path / "en.json") == en
    (tmp_path / "bad.json").write_text('{"tokens": ["x"], "counts": [1]}')
    with pytest.raises(InputError, match="bad.json"):
        LMVocab.load(tmp_path / "bad.json")


def _toy_corpora():
    # Two "languages" over the same 20-word pattern, so the LM can learn something.
    gen = torch.Generator().manual_seed(0)
    corpora = {}
    for lang, offset in (("en", 4), ("es", 6)):
        sents = []
        for _ in range(60):
            start = int(torch.randint(0, 10, (1,), generator=gen))
            sents.append([BOS, *[offset + (start + k) % 12 for k in range(int(torch.randint(3, 8, (1,), generator=gen)))], EOS])
        corpora[lang] = sents
    return corpora


@pytest.mark.parametrize("alignment", ["none", "avl"])
def test_train_lm_lowers_perplexity_and_is_deterministic(alignment) -> None:
    from xlt.lms.training import LMTrainingParams, train_lm

    corpora = _toy_corpora()
    dev = {lang: sents[:10] for lang, sents in corpora.items()}
    params = LMTrainingParams(steps=30, alignment=alignment, sentences_per_language=8, lr=3e-3,
                              num_sampled=10, eval_every=10)

    def run():
        torch.manual_seed(0)
        model = BiTransformerLM({"en": 20, "es": 20}, d_model=16, layers=2, heads=2, ffn=32, dropout=0.0)
        return model, train_lm(model, corpora, dev, params, seed=3)

    model, history = run()
    first, last = history[0], history[-1]
    assert [r["step"] for r in history] == [10, 20, 30]
    for lang in ("en", "es"):
        assert last["perplexity"][lang] < 0.8 * first["perplexity"][lang]
    if alignment == "avl":
        assert sorted(last["alignment"]) == ["avl/l0", "avl/l1", "avl/l2"]
        assert sum(last["alignment"].values()) < sum(first["alignment"].values())
    else:
        assert last["alignment"] == {}
    model2, history2 = run()
    assert history2 == [{**r, "seconds": r2["seconds"]} for r, r2 in zip(history, history2)]
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), model2.state_dict().values()))
