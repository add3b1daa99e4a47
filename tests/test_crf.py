import itertools

import pytest
import torch

from xlt.models.crf import (
    CRF,
    TransitionConstraints,
    check_mask,
    constrained_decode,
    paths_to_lists,
    viterbi_decode,
)


def _random_case(seed: int, batch: int = 3, seq_len: int = 4, num_tags: int = 3):
    gen = torch.Generator().manual_seed(seed)
    emissions = torch.randn(batch, seq_len, num_tags, generator=gen)
    lengths = torch.tensor([seq_len, 1, max(1, seq_len - 2)])[:batch]
    mask = torch.arange(seq_len).unsqueeze(0) < lengths.unsqueeze(1)
    tags = torch.randint(num_tags, (batch, seq_len), generator=gen)
    return emissions, mask, tags


def _path_score(crf: CRF, emissions: torch.Tensor, path: tuple[int, ...]) -> torch.Tensor:
    transitions, start, end = crf.effective_scores()
    total = start[path[0]] + emissions[0, path[0]] + end[path[-1]]
    for t in range(1, len(path)):
        total = total + transitions[path[t - 1], path[t]] + emissions[t, path[t]]
    return total


def _brute_force(crf: CRF, emissions: torch.Tensor, mask: torch.Tensor):
    """(log Z, best path, best score) per item by enumerating every tag sequence."""
    results = []
    for b in range(emissions.shape[0]):
        length = int(mask[b].sum())
        scores = {
            path: _path_score(crf, emissions[b], path)
            for path in itertools.product(range(crf.num_tags), repeat=length)
        }
        best = max(scores, key=lambda p: scores[p].item())
        log_z = torch.logsumexp(torch.stack(list(scores.values())), dim=0)
        results.append((log_z, list(best), scores[best]))
    return results


def _bio_constraints(labels: list[str]) -> TransitionConstraints:
    """IOB2: I-X may only follow B-X or I-X, and a sequence may not start with I-X."""
    def may_follow(prev: str, cur: str) -> bool:
        return not cur.startswith("I-") or prev in (f"B-{cur[2:]}", cur)

    allowed = torch.tensor([[may_follow(p, c) for c in labels] for p in labels])
    start_allowed = torch.tensor([not c.startswith("I-") for c in labels])
    return TransitionConstraints(allowed, start_allowed)


@pytest.mark.parametrize("seq_len", [1, 2, 3, 4])
@pytest.mark.parametrize("constrained", [False, True])
def test_log_partition_and_viterbi_match_brute_force(seq_len: int, constrained: bool) -> None:
    torch.manual_seed(seq_len)
    constraints = _bio_constraints(["O", "B-PER", "I-PER"]) if constrained else None
    crf = CRF(3, constraints)
    emissions, mask, _ = _random_case(seed=seq_len, seq_len=seq_len)
    log_z = crf.log_partition(emissions, mask)
    paths, best_scores = crf.decode(emissions, mask)
    for b, (bf_log_z, bf_path, bf_score) in enumerate(_brute_force(crf, emissions, mask)):
        assert torch.allclose(log_z[b], bf_log_z, atol=1e-4)
        assert paths_to_lists(paths, mask)[b] == bf_path
        assert torch.allclose(best_scores[b], bf_score, atol=1e-4)
    assert (paths[~mask] == 0).all()


def test_score_matches_enumerated_path_score() -> None:
    torch.manual_seed(0)
    crf = CRF(3)
    emissions, mask, tags = _random_case(seed=1)
    scores = crf.score(emissions, tags, mask)
    for b in range(3):
        length = int(mask[b].sum())
        expected = _path_score(crf, emissions[b], tuple(tags[b, :length].tolist()))
        assert torch.allclose(scores[b], expected, atol=1e-5)


def test_nll_nonnegative_reductions_and_finite_gradients() -> None:
    torch.manual_seed(0)
    crf = CRF(5, _bio_constraints(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]))
    emissions, mask, tags = _random_case(seed=2, seq_len=6, num_tags=5)
    emissions.requires_grad_(True)
    # O then I-LOC: a forbidden gold path must still give finite loss and gradients.
    tags[0, :2] = torch.tensor([0, 4])
    per_item = crf.neg_log_likelihood(emissions, tags, mask, reduction="none")
    assert per_item.shape == (3,)
    assert (per_item >= 0).all()
    assert torch.allclose(crf.neg_log_likelihood(emissions, tags, mask, "sum"), per_item.sum())
    loss = crf.neg_log_likelihood(emissions, tags, mask)
    assert torch.allclose(loss, per_item.mean())
    loss.backward()
    for grad in (emissions.grad, crf.transitions.grad, crf.start_transitions.grad):
        assert grad is not None and torch.isfinite(grad).all()
    with pytest.raises(ValueError):
        crf.neg_log_likelihood(emissions, tags, mask, reduction="token")  # type: ignore[arg-type]


def test_constrained_decode_never_outputs_i_after_o() -> None:
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    constraints = _bio_constraints(labels)
    gen = torch.Generator().manual_seed(3)
    # Emissions that strongly favour I- tags, so an unconstrained argmax is invalid everywhere.
    logits = torch.randn(16, 12, 5, generator=gen)
    logits[..., [2, 4]] += 3.0
    log_probs = logits.log_softmax(-1)
    lengths = torch.randint(1, 13, (16,), generator=gen)
    mask = torch.arange(12).unsqueeze(0) < lengths.unsqueeze(1)
    for seq in paths_to_lists(constrained_decode(log_probs, mask, *constraints), mask):
        prev = "O"
        for tag in (labels[i] for i in seq):
            if tag.startswith("I-"):
                assert prev in (f"B-{tag[2:]}", tag)
            prev = tag


def test_viterbi_function_matches_unconstrained_argmax_with_zero_transitions() -> None:
    emissions = torch.randn(4, 7, 6)
    mask = torch.ones(4, 7, dtype=torch.bool)
    zeros = torch.zeros(6)
    paths, scores = viterbi_decode(emissions, mask, torch.zeros(6, 6), zeros, zeros)
    assert torch.equal(paths, emissions.argmax(-1))
    assert torch.allclose(scores, emissions.max(-1).values.sum(-1))


def test_mask_validation() -> None:
    with pytest.raises(ValueError, match="left-aligned"):
        check_mask(torch.tensor([[True, False, True]]))
    with pytest.raises(ValueError, match="length >= 1"):
        check_mask(torch.tensor([[False, False]]))
    with pytest.raises(ValueError, match="bool"):
        check_mask(torch.ones(1, 2))


@pytest.mark.parametrize("num_tags", [3, 9, 17])
def test_nll_and_paths_equal_pytorch_crf(num_tags: int) -> None:
    pytest.importorskip("torchcrf")
    from xlt.testing import paired_crfs

    gen = torch.Generator().manual_seed(num_tags)
    batch, seq_len = 16, 12
    emissions = torch.randn(batch, seq_len, num_tags, generator=gen)
    lengths = torch.randint(1, seq_len + 1, (batch,), generator=gen)
    lengths[0] = seq_len
    mask = torch.arange(seq_len).unsqueeze(0) < lengths.unsqueeze(1)
    tags = torch.randint(num_tags, (batch, seq_len), generator=gen)
    ours, theirs = paired_crfs(num_tags, seed=num_tags)
    leaf_ours = emissions.clone().requires_grad_(True)
    leaf_theirs = emissions.clone().requires_grad_(True)
    nll = ours.neg_log_likelihood(leaf_ours, tags, mask, reduction="sum")
    their_nll = -theirs(leaf_theirs, tags, mask, reduction="sum")
    torch.testing.assert_close(nll, their_nll, rtol=1e-5, atol=1e-4)
    nll.backward()
    their_nll.backward()
    torch.testing.assert_close(leaf_ours.grad, leaf_theirs.grad, rtol=1e-4, atol=1e-5)
    assert float(leaf_ours.grad[~mask].abs().sum()) == 0.0  # padding gets no gradient
    assert paths_to_lists(ours.decode(emissions, mask)[0], mask) == theirs.decode(emissions, mask)
