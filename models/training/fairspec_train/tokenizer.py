"""The byte-level tokenizer.json: token id = byte value, plus <|endoftext|>.

A GPT-2 ByteLevel BPE with no merges: the maintained tokenizers libraries (Python, Rust,
@huggingface/tokenizers, transformers.js) load it, and it round-trips any UTF-8 exactly.
No normalizer on purpose: NFC-normalising inside the tokenizer would break round-trips.
"""
from __future__ import annotations

from .model import EOS_ID

EOS_TOKEN = "<|endoftext|>"


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def tokenizer_json() -> dict:
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    vocab = {ch: b for b, ch in bytes_to_unicode().items()}
    vocab[EOS_TOKEN] = EOS_ID
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": EOS_ID, "content": EOS_TOKEN, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": None,
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": []},
    }


# A base model's chat template for the OpenAI chat API: one "<|role|>" line, then the content, per
# message, and "<|assistant|>" to open the reply. Its markers are plain bytes to this tokenizer.
CHAT_TEMPLATE = (r"{% for message in messages %}{{ '<|' + message['role'] + '|>\n' + message['content'] + '\n' }}{% endfor %}"
                 r"{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}")


def tokenizer_config(n_positions: int) -> dict:
    return {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": EOS_TOKEN, "eos_token": EOS_TOKEN,
            "unk_token": None, "pad_token": None, "model_max_length": n_positions,
            "add_bos_token": False, "add_prefix_space": False, "clean_up_tokenization_spaces": False,
            "chat_template": CHAT_TEMPLATE}
