import pytest
import torch

from xlt.batching import make_bilstm_batch
from xlt.device import pick_device
from xlt.models.bilstm_crf import BiLSTMCRF
from xlt.models.recurrent import SequenceEncoder, reverse_padded
from xlt.models.char_encoder import CharBiLSTM
from xlt.models.crf import TransitionConstraints
from xlt.testing import make_tiny_encoder

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _bio_constraints() -> TransitionConstraints:
    allowed = torch.ones(5, 5, dtype=torch.bool)
    allowed[:, 2] = torch.tensor([False, True, True, False, False])
    allowed[:, 4] = torch.tensor([False, False, False, True, True])
    return TransitionConstraints(allowed, torch.tensor([True, True, False, True, False]))


def _is_valid_bio(path: list[int]) -> bool:
    prev = "O"
    for tag in (LABELS[i] for i in path):
        if tag.startswith("I-") and prev not in (f"B-{tag[2:]}", tag):
            return False
        prev = tag
    return True


def test_char_bilstm_is_padding_invariant_and_zero_for_empty_words() -> None:
    torch.manual_seed(0)
    encoder = CharBiLSTM(n_chars=10, char_dim=4, hidden=3).eval()
    chars = torch.tensor([[2, 3, 4, 0, 0], [5, 0, 0, 0, 0], [0, 0, 0, 0, 0], [6, 7, 8, 9, 2]])
    out = encoder(chars)
    assert out.shape == (4, 6)
    assert torch.equal(out[2], torch.zeros(6))
    alone = encoder(torch.tensor([[2, 3, 4]]))
    assert torch.allclose(out[0], alone[0], atol=1e-6)


def test_reverse_padded_is_its_own_inverse() -> None:
    x = torch.arange(8.0).reshape(2, 4, 1)
    lengths = torch.tensor([4, 2])
    reversed_x = reverse_padded(x, lengths)
    assert reversed_x[:, :, 0].tolist() == [[3, 2, 1, 0], [5, 4, 6, 7]]
    assert torch.equal(reverse_padded(reversed_x, lengths), x)


def test_shared_encoder_runs_one_lstm_both_ways() -> None:
    torch.manual_seed(0)
    encoder = SequenceEncoder(input_dim=3, hidden=4, shared=True)
    assert not encoder.lstm.bidirectional
    x = torch.randn(2, 5, 3)
    lengths = torch.tensor([5, 3])
    out = encoder(x, lengths)
    assert out.shape == (2, 5, 8)
    # Sentence 1 alone (no padding) gives the same states: padding never leaks in.
    single = encoder(x[1:, :3], torch.tensor([3]))
    assert torch.allclose(out[1, :3], single[0], atol=1e-6)
    # Backward half at position t = forward LSTM over the reversed sentence, re-reversed.
    backward, _ = encoder.lstm(x[1:, :3].flip(1))
    assert torch.allclose(out[1, :3, 4:], backward[0].flip(0), atol=1e-6)


def _toy_data():
    # Word 3 is a person, word 4 a location; the model must learn it from a handful of steps.
    sentences = [[2, 3, 5], [3, 6], [4, 2, 5, 6], [2, 4]]
    tags = [[0, 1, 0], [1, 0], [3, 0, 0, 0], [0, 3]]
    chars = [[[w, w + 1] for w in s] for s in sentences]
    return make_bilstm_batch(sentences, chars, tags)


@pytest.mark.parametrize("shared_lstm", [False, True])
def test_bilstm_crf_learns_toy_data(shared_lstm: bool) -> None:
    torch.manual_seed(0)
    batch = _toy_data()
    model = BiLSTMCRF(n_words=8, n_chars=10, n_tags=5, word_dim=8, char_dim=4, char_hidden=4,
                      hidden=8, dropout=0.0, shared_lstm=shared_lstm, crf_constraints=_bio_constraints())
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    first_loss = model.loss(batch).item()
    for _ in range(40):
        optimizer.zero_grad()
        loss = model.loss(batch)
        loss.backward()
        optimizer.step()
    assert loss.item() < first_loss / 5
    model.eval()
    with torch.inference_mode():
        predicted = model.decode(batch)
    assert predicted == [[0, 1, 0], [1, 0], [3, 0, 0, 0], [0, 3]]
    assert all(_is_valid_bio(p) for p in predicted)


def test_bilstm_crf_options_and_param_count() -> None:
    torch.manual_seed(0)
    pretrained = torch.randn(8, 6)
    model = BiLSTMCRF(n_words=8, n_chars=10, n_tags=5, hidden=4, use_char=False,
                      pretrained_words=pretrained, freeze_words=True)
    assert torch.equal(model.word_embedding.weight, pretrained)
    assert not model.word_embedding.weight.requires_grad
    lstm = 2 * (4 * 4 * (6 + 4) + 2 * 4 * 4)  # two directions: 4 gates x (W_ih, W_hh, 2 biases)
    expected = 8 * 6 + lstm + (8 * 5 + 5) + (25 + 5 + 5)
    assert model.n_params == expected
    assert model.n_trainable_params == expected - 8 * 6
    batch = make_bilstm_batch([[1, 2], [3]], tag_ids=[[0, 1], [2]])
    model.loss(batch).backward()
    assert model.word_embedding.weight.grad is None
    with pytest.raises(ValueError, match="rows"):
        BiLSTMCRF(n_words=9, n_chars=10, n_tags=5, pretrained_words=pretrained)
    with pytest.raises(ValueError, match="char_ids"):
        BiLSTMCRF(n_words=8, n_chars=10, n_tags=5).emissions(batch)


def test_bilstm_crf_is_deterministic_under_seed() -> None:
    batch = _toy_data()

    def one_step() -> torch.Tensor:
        torch.manual_seed(7)
        model = BiLSTMCRF(n_words=8, n_chars=10, n_tags=5, word_dim=8, char_dim=4, char_hidden=4, hidden=8)
        loss = model.loss(batch)  # dropout active: uses the RNG too
        loss.backward()
        return torch.cat([loss.detach().reshape(1), model.projection.weight.grad.flatten()])

    assert torch.equal(one_step(), one_step())


@pytest.fixture(scope="module")
def tiny_encoder_path(tmp_path_factory):
    return make_tiny_encoder(tmp_path_factory.mktemp("enc"), ["the", "cat", "Paris", "went", "to"])


def test_encoder_tagger_train_predict_save_load(tiny_encoder_path, tmp_path) -> None:
    from xlt.models.encoder_tagger import EncoderTagger

    torch.manual_seed(0)
    tagger = EncoderTagger(str(tiny_encoder_path), num_labels=5, freeze_layers=1,
                           max_subwords=16, context_subwords=4)
    assert not any(p.requires_grad for p in tagger.encoder.embeddings.parameters())
    assert not any(p.requires_grad for p in tagger.encoder.encoder.layer[0].parameters())
    assert all(p.requires_grad for p in tagger.encoder.encoder.layer[1].parameters())
    assert next(tagger.encoder.parameters()).dtype == torch.float32

    sentences = [["the", "cat", "went", "to", "Paris"], ["Paris"], ["the", "catcat"] * 12, []]
    labels = [[0, 0, 0, 0, 3], [3], [0, 1] * 12, []]
    windows = tagger.windows(sentences, labels)
    batch = next(tagger.batches(windows, batch_size=8, shuffle=True, seed=1))
    logits = tagger(batch)
    assert logits.shape == (*batch.word_mask.shape, 5)
    tagger.loss(batch).backward()
    assert tagger.classifier.weight.grad is not None
    assert tagger.encoder.embeddings.word_embeddings.weight.grad is None

    log_probs = tagger.log_probs(sentences, batch_size=2)
    assert [lp.shape for lp in log_probs] == [(len(s), 5) for s in sentences]
    assert torch.allclose(log_probs[2].exp().sum(-1), torch.ones(24), atol=1e-5)
    assert tagger.training  # predicting restores the training mode

    argmax = tagger.predict(sentences, batch_size=2)
    assert [len(p) for p in argmax] == [len(s) for s in sentences]
    assert argmax[2] == log_probs[2].argmax(-1).tolist()
    viterbi = tagger.predict(sentences, decode="bio_viterbi", allowed=tuple(_bio_constraints()[:2]))
    assert [len(p) for p in viterbi] == [len(s) for s in sentences]
    assert all(_is_valid_bio(p) for p in viterbi)

    tagger.save(tmp_path / "saved")
    reloaded = EncoderTagger.load(tmp_path / "saved")
    for a, b in zip(reloaded.log_probs(sentences), log_probs):
        assert torch.allclose(a, b, atol=1e-5)


def test_encoder_tagger_keeps_only_the_bottom_layers_it_is_asked_for(tiny_encoder_path, tmp_path) -> None:
    from xlt.models.encoder_tagger import EncoderTagger, load_encoder

    full = load_encoder(str(tiny_encoder_path)).eval()
    assert len(full.encoder.layer) == 2
    tagger = EncoderTagger(str(tiny_encoder_path), num_labels=5, freeze_layers=0, num_layers=1).eval()
    assert len(tagger.encoder.encoder.layer) == 1
    sentences = [["the", "cat", "went", "to", "Paris"], ["Paris"]]
    batch = tagger.collate(tagger.windows(sentences, [[0] * 5, [3]]))
    with torch.no_grad():
        # The truncated encoder's output is the full encoder's first layer, weights included.
        below = full(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                     output_hidden_states=True).hidden_states[1]
        assert torch.allclose(tagger.hidden_states(batch), below, atol=1e-6)
    tagger.save(tmp_path / "one_layer")
    reloaded = EncoderTagger.load(tmp_path / "one_layer")
    assert len(reloaded.encoder.encoder.layer) == 1
    with pytest.raises(ValueError, match="cannot keep 3 of its 2 layers"):
        EncoderTagger(str(tiny_encoder_path), num_labels=5, freeze_layers=0, num_layers=3)


def test_encoder_tagger_autocast_runs_in_bfloat16_and_keeps_float32_weights_and_logits(
        tiny_encoder_path, tmp_path) -> None:
    from xlt.models.encoder_tagger import EncoderTagger

    torch.manual_seed(0)
    plain = EncoderTagger(str(tiny_encoder_path), num_labels=5, freeze_layers=0).eval()
    mixed = EncoderTagger(str(tiny_encoder_path), num_labels=5, freeze_layers=0, autocast="bfloat16").eval()
    mixed.load_state_dict(plain.state_dict())
    sentences = [["the", "cat", "went", "to", "Paris"], ["Paris", "the"]]
    batch = plain.collate(plain.windows(sentences, [[0] * 5, [3, 0]]))
    seen = []
    hook = mixed.classifier.register_forward_hook(lambda _m, _inputs, out: seen.append(out.dtype))
    with torch.no_grad():
        reference, logits = plain(batch), mixed(batch)
    hook.remove()
    assert seen == [torch.bfloat16]  # the head's product ran in bfloat16
    assert logits.dtype == torch.float32 and reference.dtype == torch.float32
    assert not torch.equal(logits, reference)
    assert torch.allclose(logits, reference, atol=0.1)  # bfloat16 keeps ~3 significant digits
    mixed.train()
    mixed.loss(batch).backward()
    assert all(p.dtype == torch.float32 and (p.grad is None or p.grad.dtype == torch.float32)
               for p in mixed.parameters())
    mixed.save(tmp_path / "mixed")
    assert EncoderTagger.load(tmp_path / "mixed").autocast == "bfloat16"
    with pytest.raises(ValueError, match="autocast must be null or one of"):
        EncoderTagger(str(tiny_encoder_path), num_labels=5, autocast="int8")


def test_pick_device_falls_back_to_cpu() -> None:
    assert pick_device(prefer_gpu=False).type == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert pick_device(prefer_gpu=True).type == expected


# --------------------------------------------------------------------------- Transformer-CRF

def test_transformer_crf_shapes_and_padding_never_leaks() -> None:
    from xlt.models.transformer_crf import TransformerCRF

    torch.manual_seed(0)
    model = TransformerCRF(input_dim=12, n_tags=5, d_model=8, heads=2, layers=2, ffn=8).eval()
    assert isinstance(model.input_projection, torch.nn.Linear)  # 12 -> 8
    features = torch.randn(2, 6, 12)
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    with torch.inference_mode():
        both = model.emissions(features, mask)
        alone = model.emissions(features[1:, :3], mask[1:, :3])
        # Garbage in the padding changes nothing at real positions.
        noisy = features.clone()
        noisy[1, 3:] = 1e3
        again = model.emissions(noisy, mask)
    assert both.shape == (2, 6, 5)
    torch.testing.assert_close(both[1, :3], alone[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(both[:, :3], again[:, :3], atol=1e-5, rtol=1e-5)
    with torch.inference_mode():
        paths = model.decode(features, mask)
    assert [len(p) for p in paths] == [6, 3]


def test_transformer_crf_learns_toy_data_and_keeps_paper_sizes() -> None:
    from xlt.models.transformer_crf import TransformerCRF

    paper = TransformerCRF(input_dim=300, n_tags=9)
    assert isinstance(paper.input_projection, torch.nn.Identity)  # MUSE vectors are 300-d
    assert len(paper.encoder.layers) == 2
    assert paper.encoder.layers[0].self_attn.num_heads == 2
    assert paper.encoder.layers[0].linear1.out_features == 300

    torch.manual_seed(0)
    embeddings = torch.nn.Embedding(8, 16)
    batch = _toy_data()
    model = TransformerCRF(input_dim=16, n_tags=5, d_model=16, heads=2, layers=2, ffn=16, dropout=0.0,
                           input_dropout=0.0, crf_constraints=_bio_constraints())
    params = list(model.parameters()) + list(embeddings.parameters())
    optimizer = torch.optim.Adam(params, lr=0.02)
    first = model.loss(embeddings(batch.word_ids), batch.tag_ids, batch.mask).item()
    for _ in range(60):
        optimizer.zero_grad()
        loss = model.loss(embeddings(batch.word_ids), batch.tag_ids, batch.mask)
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 5
    model.eval()
    with torch.inference_mode():
        predicted = model.decode(embeddings(batch.word_ids), batch.mask)
    assert predicted == [[0, 1, 0], [1, 0], [3, 0, 0, 0], [0, 3]]


def test_cross_shared_ties_both_directions_of_both_lstms() -> None:
    """Bari et al.'s Cross-Shared: one weight tensor per gate matrix, trained from both
    directions, in the word and the character BiLSTM; Table 4's parameter count drops."""
    torch.manual_seed(0)
    tied = BiLSTMCRF(n_words=8, n_chars=10, n_tags=5, word_dim=6, char_dim=4, char_hidden=3, hidden=4,
                     dropout=0.0, shared_lstm=True)
    untied = BiLSTMCRF(n_words=8, n_chars=10, n_tags=5, word_dim=6, char_dim=4, char_hidden=3, hidden=4,
                       dropout=0.0, shared_lstm=False)
    for lstm in (tied.encoder.lstm, tied.char_encoder.lstm):
        assert not lstm.bidirectional
        assert not any(name.endswith("_reverse") for name, _ in lstm.named_parameters())
    word_lstm = 4 * 4 * (6 + 6 + 4) + 2 * 4 * 4   # input = word 6 + chars 2*3
    char_lstm = 4 * 3 * (4 + 3) + 2 * 4 * 3
    assert untied.n_params - tied.n_params == word_lstm + char_lstm
    # The one weight tensor learns from both directions: each half of the output has its
    # own non-zero gradient on it, and the whole output's gradient is their sum.
    for lstm_module, run in ((tied.char_encoder, lambda: tied.char_encoder(torch.tensor([[3, 4, 5, 0]]))),
                             (tied.encoder, lambda: tied.encoder(torch.randn(1, 4, 12), torch.tensor([4])))):
        weight = lstm_module.lstm.weight_ih_l0
        grads = []
        for half in (slice(None, lstm_module.output_dim // 2), slice(lstm_module.output_dim // 2, None)):
            torch.manual_seed(1)
            weight.grad = None
            run()[..., half].sum().backward()
            grads.append(weight.grad.clone())
        torch.manual_seed(1)
        weight.grad = None
        run().sum().backward()
        assert all(float(g.abs().sum()) > 0 for g in grads)
        torch.testing.assert_close(weight.grad, grads[0] + grads[1])
    # The character encoder's backward half is the same LSTM over the reversed word.
    chars = torch.tensor([[3, 4, 5, 0]])
    out = tied.char_encoder(chars)
    emb = tied.char_encoder.embedding(chars[:, :3])
    _, (h_fwd, _) = tied.char_encoder.lstm(emb)
    _, (h_bwd, _) = tied.char_encoder.lstm(emb.flip(1))
    torch.testing.assert_close(out, torch.cat([h_fwd[0], h_bwd[0]], dim=1))


def test_encoder_tagger_reads_each_sentence_in_its_language_with_xlm(tmp_path) -> None:
    """An encoder with language embeddings (XLM) reads a sentence with its language's id: the
    same words score differently as German and as English; a language it has no embedding
    for takes fallback_language's, or is refused; the choice survives save and load."""
    from xlt.models.encoder_tagger import EncoderTagger
    from xlt.testing import make_tiny_xlm_encoder

    path = make_tiny_xlm_encoder(tmp_path / "xlm", ["the", "cat", "Paris"], ["de", "en", "es"])
    tagger = EncoderTagger(str(path), num_labels=3, freeze_embeddings=False, freeze_layers=0,
                           fallback_language="en").eval()
    assert tagger.language_ids == {"de": 0, "en": 1, "es": 2}
    sentences = [["the", "cat", "Paris"], ["Paris"]]
    with pytest.raises(ValueError, match="needs each sentence's language"):
        tagger.windows(sentences)
    scores = {}
    for lang in ("de", "en", "nl"):
        tagger.language = lang
        scores[lang] = tagger.log_probs(sentences)
    assert not torch.allclose(scores["de"][0], scores["en"][0])
    assert all(torch.equal(a, b) for a, b in zip(scores["nl"], scores["en"]))  # no Dutch: English's
    mixed = tagger.windows(sentences, languages=["de", "en"])
    assert [w.language for w in mixed] == [0, 1]
    tagger.save(tmp_path / "saved")
    reloaded = EncoderTagger.load(tmp_path / "saved").eval()
    reloaded.language = "en"
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(reloaded.log_probs(sentences), scores["en"]))
    strict = EncoderTagger(str(path), num_labels=3, freeze_layers=0)
    with pytest.raises(ValueError, match="no language embedding for 'nl'"):
        strict.windows(sentences, languages=["nl", "en"])
