"""The LASER-style sentence encoder (xlt.lms.laser) and van der Heijden's subword embedders
(xlt.models.word_embedders)."""
from __future__ import annotations

import random

import pytest
import torch

from xlt.batching import make_piece_batch
from xlt.errors import InputError
from xlt.lms.laser.artifact import load_encoder, save_encoder
from xlt.lms.laser.bitext import build_bitexts, read_set, read_sets
from xlt.lms.laser.features import PieceStateStore, encode_tagged_sentence
from xlt.lms.laser.model import LaserDecoder, LaserEncoder, LaserTranslator, encoder_from_laser1
from xlt.lms.laser.preprocess import SPECIALS, encode_words, learn_bpe, normalize_word
from xlt.lms.laser.training import LaserTrainingParams, encode_pairs, encode_sentences, train_translator
from xlt.models.layer_mix import ScalarMix
from xlt.models.word_embedders import BPEGRU, BPEBagOfWords, PieceStateWords, direction_max, pool_pieces
from xlt.vectors.retrieval import unit_rows


# ---------------------------------------------------------------- preprocessing
def test_normalize_word_lowercases_normalises_punctuation_and_stays_one_token():
    assert normalize_word("Hello", "en") == "hello"
    assert normalize_word("«", "fr") == '"'
    for word in ("»", "...", "--", "„", "1,5"):
        assert len(normalize_word(word, "de").split()) == 1


def test_bpe_gives_every_word_pieces_with_their_owner():
    sentences = [["the", "house", "is", "red"], ["la", "casa", "es", "roja"]] * 5
    tokenizer = learn_bpe(sentences, vocab_size=60, min_frequency=1)
    assert [tokenizer.token_to_id(s) for s in SPECIALS] == [0, 1, 2, 3]
    ids, owners = encode_words(tokenizer, ["houses", "zzz", "casa"])
    assert sorted(set(owners)) == [0, 1, 2] and owners == sorted(owners)
    assert len(ids) == len(owners)


# ---------------------------------------------------------------- bitext
def test_bpe_training_is_the_same_in_every_process():
    """Same text, same vocabulary: learnt in three fresh processes (each with its own
    hash-map seeds, the source of the `tokenizers` trainer's disorder with a subword prefix)."""
    import subprocess
    import sys

    code = ("import random; from xlt.lms.laser.preprocess import learn_bpe; rng = random.Random(0); "
            "words = [''.join(rng.choice('abcdefgh') for _ in range(rng.randint(2, 9))) for _ in range(400)]; "
            "sentences = [[rng.choice(words) for _ in range(12)] for _ in range(300)]; "
            "print(learn_bpe(sentences, vocab_size=200, min_frequency=2).to_str())")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(3)}
    assert len(runs) == 1


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_misaligned_set_names_both_files(tmp_path):
    en = _write(tmp_path / "a.en", ["one", "two", "three"])
    es = _write(tmp_path / "a.es", ["uno", "dos"])
    with pytest.raises(InputError, match=r"a\.es.*2 lines.*a\.en.*3"):
        read_set({"en": en, "es": es}, "a")


def test_bitexts_pair_into_each_target_and_hold_out_the_tail(tmp_path):
    files = {lang: _write(tmp_path / f"s.{lang}", [f"{lang} sentence {i}" for i in range(10)])
             for lang in ("de", "en", "es")}
    pairs, held = build_bitexts(read_sets({"s": files}), ["en", "es"], "s", 3)
    assert {(p.source_lang, p.target_lang) for p in pairs} == {("de", "en"), ("es", "en"), ("de", "es"), ("en", "es")}
    assert all(len(p.source) == 7 for p in pairs)
    assert held["de"][0] == ["de", "sentence", "7"]
    assert not any(("7",) == s[-1:] for p in pairs for s in p.source)


# ---------------------------------------------------------------- model
def test_sentence_vector_is_the_max_over_real_positions_only():
    torch.manual_seed(0)
    encoder = LaserEncoder(30, embed_dim=8, hidden=6, layers=2).eval()
    ids = torch.tensor([[5, 6, 7, 0, 0]])
    alone = encoder(ids[:, :3], torch.tensor([3]))
    padded = encoder(ids, torch.tensor([3]))
    assert torch.allclose(alone, padded, atol=1e-6)
    top = encoder.layer_states(ids[:, :3], torch.tensor([3]))[-1]
    assert torch.allclose(alone, top.max(dim=1).values)


def test_laser1_checkpoint_layout_loads_into_the_layer_stack():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(8, 5, num_layers=3, bidirectional=True, batch_first=True)
    embed = torch.nn.Embedding(20, 8, padding_idx=1)
    state = {"embed_tokens.weight": embed.weight.detach(), **{f"lstm.{k}": v for k, v in lstm.state_dict().items()}}
    encoder = encoder_from_laser1(state).eval()
    assert encoder.n_layers == 3 and encoder.hidden == 5
    ids = torch.tensor([[4, 9, 2, 7]])
    expected, _ = lstm(embed(ids))
    got = encoder.layer_states(ids, torch.tensor([4]))[-1]
    assert torch.allclose(got, expected, atol=1e-6)


def _toy_languages(n: int, seed: int) -> dict[str, list[str]]:
    """English-like sentences over 40 words and two word-by-word ciphers of them (one with
    reversed word order): three languages that share no BPE piece, so only translation
    can bring a sentence and its translation together."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(40)]
    xx = {w: f"q{i}x" for i, w in enumerate(words)}
    yy = {w: f"z{i}k" for i, w in enumerate(words)}
    sentences = [rng.sample(words, rng.randint(3, 6)) for _ in range(n)]
    return {"en": [" ".join(s) for s in sentences], "xx": [" ".join(xx[w] for w in reversed(s)) for s in sentences],
            "yy": [" ".join(yy[w] for w in s) for s in sentences]}


def test_trained_sentence_vector_is_nearer_its_translation_than_a_random_sentence(tmp_path):
    files = {lang: _write(tmp_path / f"toy.{lang}", text) for lang, text in _toy_languages(300, seed=1).items()}
    texts = read_sets({"toy": files})
    targets = ["en", "xx"]  # as LASER's English and Spanish: every language is encoded
    pairs, held = build_bitexts(texts, targets, "toy", 40)
    tokenizer = learn_bpe((s for t in texts["toy"].values() for s in t), vocab_size=200, min_frequency=1)
    params = LaserTrainingParams(steps=600, batch_size=16, lr=5e-3, eval_every=600, max_pieces=20)
    train = encode_pairs(tokenizer, pairs, targets, params.max_pieces)
    torch.manual_seed(1)
    encoder = LaserEncoder(tokenizer.get_vocab_size(), embed_dim=16, hidden=24, layers=2)
    model = LaserTranslator(encoder, LaserDecoder(tokenizer.get_vocab_size(), 48, 16, 48, n_langs=2, lang_dim=4))

    def nearer_share() -> float:
        """Share of held-out xx sentences whose translation is nearer than a fixed other one."""
        a = unit_rows(encode_sentences(encoder, tokenizer, held["xx"], 20))
        b = unit_rows(encode_sentences(encoder, tokenizer, held["en"], 20))
        sims = a @ b.T
        return float((sims.diagonal() > sims[torch.arange(40), (torch.arange(40) + 7) % 40]).float().mean())

    before = nearer_share()
    history = train_translator(model, tokenizer, train, train, held, params, seed=1)
    assert history[-1]["dev_loss"] < history[0]["dev_loss"] - 1.0
    after = nearer_share()
    assert after >= 0.75 and after > before + 0.1  # measured: 0.60-0.65 -> 0.88-0.90
    assert history[-1]["retrieval_accuracy"]["xx"] > 2 / 40  # above chance (1 / 40)


def test_encoder_artifact_round_trip_and_digest_check(tmp_path):
    tokenizer = learn_bpe([["a", "b", "ab"]] * 3, vocab_size=20, min_frequency=1)
    encoder = LaserEncoder(tokenizer.get_vocab_size(), embed_dim=4, hidden=3, layers=2)
    paths = [tmp_path / n for n in ("e.safetensors", "e.bpe.json", "e.json")]
    save_encoder(*paths, encoder, tokenizer, {"kind": "test"})
    loaded, tok, manifest = load_encoder(paths[2])
    assert manifest["architecture"]["layers"] == 2 and tok.get_vocab_size() == tokenizer.get_vocab_size()
    for name, value in encoder.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value)
    paths[0].write_bytes(paths[0].read_bytes() + b" ")
    with pytest.raises(InputError, match="sha256"):
        load_encoder(paths[2])


# ---------------------------------------------------------------- word features
def _batch():
    # sentence 0: words of 1, 3, 1 pieces; sentence 1: 2, 1 pieces
    return make_piece_batch([[5, 6, 7, 8, 9], [10, 11, 12]], [[0, 1, 1, 1, 2], [0, 0, 1]], [[1, 2, 1], [2, 1]])


def test_piece_batch_groups_each_words_pieces():
    batch = _batch()
    assert batch.word_pieces[0, 1].tolist() == [6, 7, 8] and batch.word_pieces[0, 0].tolist() == [5, 0, 0]
    assert batch.word_pieces[1, 0, :2].tolist() == [10, 11]
    assert batch.mask.tolist() == [[True, True, True], [True, True, False]]
    assert batch.owners[1].tolist() == [0, 0, 1, -1, -1]


def test_pool_pieces_max_and_mean_cover_exactly_the_words_pieces():
    batch = _batch()
    x = torch.randn(2, 5, 4)
    pooled = pool_pieces(x, batch.owners, 3, "max")
    assert torch.equal(pooled[0, 1], x[0, 1:4].max(dim=0).values)
    assert torch.equal(pooled[1, 0], x[1, 0:2].max(dim=0).values)
    assert torch.equal(pooled[1, 2], torch.zeros(4))  # a padding word
    mean = pool_pieces(x, batch.owners, 3, "mean")
    assert torch.allclose(mean[0, 1], x[0, 1:4].mean(dim=0))


def test_bpe_bow_of_a_one_piece_word_is_that_pieces_embedding():
    table = torch.randn(20, 6)
    table[0] = 0
    out = BPEBagOfWords(table)(_batch())
    assert torch.allclose(out[0, 0], table[5]) and torch.allclose(out[0, 2], table[9])
    assert torch.allclose(out[0, 1], table[[6, 7, 8]].mean(dim=0))


def test_bpe_gru_reads_each_word_alone():
    torch.manual_seed(0)
    table = torch.randn(20, 6)
    gru = BPEGRU(table, hidden=5)
    out = gru(_batch())
    alone = gru(make_piece_batch([[6, 7, 8]], [[0, 0, 0]]))
    assert torch.allclose(out[0, 1], alone[0, 0], atol=1e-6)


def test_laser_top_word_vector_is_gamma_times_the_max_over_exactly_its_pieces():
    torch.manual_seed(0)
    encoder = LaserEncoder(30, embed_dim=8, hidden=6, layers=3).eval()
    words = PieceStateWords(1, 6)
    with torch.no_grad():
        words.mix.gamma.fill_(2.0)
    ids, owners = [5, 6, 7, 8, 9], [0, 1, 1, 1, 2]
    top = direction_max(encoder.layer_states(torch.tensor([ids]), torch.tensor([5]))[-1])[0].detach()
    words.set_states(torch.cat([torch.zeros(1, 1, 6), top.unsqueeze(1)]))
    batch = make_piece_batch([[1, 2, 3, 4, 5]], [owners])  # rows 1..5 of the states
    out = words(batch)
    assert torch.allclose(out[0, 1], 2.0 * top[1:4].max(dim=0).values)
    assert torch.allclose(out[0, 0], 2.0 * top[0])


def test_scalar_mix_weights_sum_to_one_and_one_layer_is_gamma_h():
    mix = ScalarMix(4)
    with torch.no_grad():
        mix.logits.copy_(torch.tensor([0.1, -2.0, 3.0, 0.0]))
    assert torch.isclose(mix.layer_weights().sum(), torch.tensor(1.0))
    single = ScalarMix(1)
    h = torch.randn(2, 3, 1, 5)
    assert torch.allclose(single(h), h[..., 0, :])


def test_piece_state_store_rows_are_the_encoders_states_of_that_sentence():
    tokenizer = learn_bpe([["the", "red", "house"], ["la", "casa"]] * 4, vocab_size=40, min_frequency=1)
    torch.manual_seed(0)
    encoder = LaserEncoder(tokenizer.get_vocab_size(), embed_dim=8, hidden=6, layers=3).eval()
    store = PieceStateStore(encoder, tokenizer, [1, 3])
    store.add("en", [["The", "red", "house"], ["Red"]])
    rows, owners = store.rows("en", ["The", "red", "house"])
    ids, own = encode_tagged_sentence(tokenizer, "en", ["The", "red", "house"])
    assert owners == own
    layers = encoder.layer_states(torch.tensor([ids]), torch.tensor([len(ids)]))
    assert torch.allclose(store.matrix[rows][:, 1], direction_max(layers[2])[0], atol=1e-6)
    assert torch.allclose(store.matrix[rows][:, 0], direction_max(layers[0])[0], atol=1e-6)
    with pytest.raises(ValueError):
        PieceStateStore(encoder, tokenizer, [4])


# ---------------------------------------------------------------- LASER1's published files
CODES = [("l", "o"), ("e", "r</w>"), ("lo", "w"), ("low", "er</w>"), ("a", "a")]


def test_fastbpe_merges_by_rank_everywhere_and_marks_word_inner_units():
    from xlt.lms.laser.fastbpe import FastBPE

    bpe = FastBPE(CODES)
    assert bpe.apply("lower") == ("lower",)
    assert bpe.apply("lowe") == ("low@@", "e")  # "e</w>" never merges: "e r</w>" needs the r
    assert bpe.apply("aaa") == ("aa@@", "a")  # every (a, a) left to right, none overlapping
    assert bpe.apply("x") == ("x",)


def test_fastbpe_splits_back_what_the_vocabulary_lacks_along_its_merges():
    from xlt.lms.laser.fastbpe import FastBPE

    # "lower" is not a unit of the vocabulary, "low@@" and "er" are (fastBPE's limitVocab).
    assert FastBPE(CODES, ["low@@", "er"]).apply("lower") == ("low@@", "er")
    # Nor is "low@@": split again into "lo" + "w", as far as the vocabulary needs.
    assert FastBPE(CODES, ["lo@@", "w@@", "er"]).apply("lower") == ("lo@@", "w@@", "er")
    # Single characters stay, known or not.
    assert FastBPE(CODES, ["er"]).apply("lower") == ("l@@", "o@@", "w@@", "er")


def test_fastbpe_files_with_a_bad_line_name_file_and_line(tmp_path):
    from xlt.lms.laser.fastbpe import read_codes, read_vocab

    (tmp_path / "c").write_text("l o 10\ne r</w>\n")
    with pytest.raises(InputError, match=r"c:2"):
        read_codes(tmp_path / "c")
    (tmp_path / "v").write_text("low@@ 3\nlow er 2\n")
    with pytest.raises(InputError, match=r"v:2"):
        read_vocab(tmp_path / "v")


def _laser1_files(tmp_path, layers: int = 2):
    """A LASER1-format checkpoint (fairseq Encoder: params, model, dictionary), codes and
    vocabulary; returns the paths and the LSTM and embedding the checkpoint holds."""
    torch.manual_seed(3)
    dictionary = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "low@@": 4, "er": 5, "lo@@": 6, "w": 7, "x": 8}
    embed = torch.nn.Embedding(len(dictionary), 8, padding_idx=1)
    lstm = torch.nn.LSTM(8, 6, num_layers=layers, bidirectional=True)
    params = {"num_embeddings": len(dictionary), "padding_idx": 1, "embed_dim": 8, "hidden_size": 6,
              "num_layers": layers, "bidirectional": True, "left_pad": True, "padding_value": 0.0}
    model = {"embed_tokens.weight": embed.weight.detach().clone(),
             **{f"lstm.{k}": v.detach().clone() for k, v in lstm.state_dict().items()}}
    torch.save({"params": params, "model": model, "dictionary": dictionary}, tmp_path / "bilstm.pt")
    (tmp_path / "93langs.fcodes").write_text("".join(f"{a} {b} {100 - i}\n" for i, (a, b) in enumerate(CODES)))
    (tmp_path / "93langs.fvocab").write_text("low@@ 9\ner 9\nlo@@ 5\nw 5\nx 3\n")
    return tmp_path / "bilstm.pt", tmp_path / "93langs.fcodes", tmp_path / "93langs.fvocab", lstm, embed


def test_laser1_files_import_as_the_encoder_artifact_that_reads_sentences_with_eos(tmp_path):
    """import_laser: LASER1's checkpoint, codes and vocabulary become the artifact the taggers
    read; its sentence vector is LASER's (embeddings, the whole BiLSTM over "pieces </s>",
    max over time) and the piece states of a tagging sentence are read with "</s>" after it."""
    from xlt.lms.laser.fastbpe import FastBPETokenizer
    from xlt.lms.laser.published import import_laser1

    checkpoint, codes, vocab, lstm, embed = _laser1_files(tmp_path)
    out = tmp_path / "artifact"
    out.mkdir()
    manifest = import_laser1(checkpoint=checkpoint, codes=codes, vocab=vocab, weights_path=out / "encoder.safetensors",
                             bpe_path=out / "encoder.bpe.json", json_path=out / "encoder.json")
    assert manifest["append_eos"] and manifest["architecture"]["layers"] == 2
    assert set(manifest["inputs"]) == {str(checkpoint), str(codes), str(vocab)}
    encoder, tokenizer, loaded = load_encoder(out / "encoder.json")
    assert isinstance(tokenizer, FastBPETokenizer) and loaded["append_eos"]
    ids, owners = encode_tagged_sentence(tokenizer, "en", ["Lower", "low", "zz"])
    # lower -> low@@ er; low -> lo@@ w (no "low" unit at a word's end); zz -> z@@ z, unknown.
    assert ids == [4, 5, 6, 7, 3, 3] and owners == [0, 0, 1, 1, 2, 2]
    with torch.no_grad():
        reference, _ = lstm(embed(torch.tensor(ids + [2])).unsqueeze(1))  # (T, 1, 2H): fairseq's layout
        vector = encoder.sentence_vectors(torch.tensor([ids + [2]]), torch.tensor([len(ids) + 1]))
        assert torch.allclose(vector[0], reference[:, 0].max(dim=0).values, atol=1e-6)
        store = PieceStateStore(encoder, tokenizer, [2], eos_id=tokenizer.token_to_id("</s>"))
        rows, row_owners = store.rows("en", ["Lower", "low", "zz"])
        assert row_owners == owners and len(rows) == len(ids)  # "</s>" read, not kept
        expected = direction_max(reference[: len(ids), 0].unsqueeze(0))[0]
        assert torch.allclose(store.matrix[rows, 0], expected, atol=1e-6)
        without = PieceStateStore(encoder, tokenizer, [2])
        rows_without, _ = without.rows("en", ["Lower", "low", "zz"])
        assert not torch.allclose(without.matrix[rows_without, 0], expected)


def test_a_checkpoint_without_laser1_entries_is_refused_with_its_path(tmp_path):
    from xlt.lms.laser.published import import_laser1

    checkpoint, codes, vocab, _, _ = _laser1_files(tmp_path)
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(InputError, match=r"other\.pt.*no \['params', 'dictionary'\]"):
        import_laser1(checkpoint=tmp_path / "other.pt", codes=codes, vocab=vocab, weights_path=tmp_path / "w",
                      bpe_path=tmp_path / "b", json_path=tmp_path / "j")
    assert not (tmp_path / "j").exists()
