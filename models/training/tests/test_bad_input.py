"""Bad input to the pipeline fails with a message naming the cause, not a traceback.

Each case runs the stage as a user would (a subprocess of /usr/bin/python3) and checks the
exit status and the last line of stderr.
Run: /usr/bin/python3 -m unittest discover -s models/training/tests -p test_bad_input.py
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

import fetch_sources  # noqa: E402


def run_stage(*args):
    proc = subprocess.run([sys.executable, *args], cwd=HERE, capture_output=True, text=True, timeout=300)
    lines = proc.stderr.strip().splitlines()
    return proc.returncode, lines[-1] if lines else ""


def write(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def write_corpus(folder, languages):
    """train/heldout files holding `languages` {code: text}; an empty text is an empty language."""
    os.makedirs(folder, exist_ok=True)
    for split in ("train", "heldout"):
        blob, index = b"", {}
        for code, text in languages.items():
            data = text.encode("utf-8")
            index[code] = {"offset": len(blob), "length": len(data), "tier": "high"}
            blob += data
        write(os.path.join(folder, f"{split}.bin"), blob)
        write(os.path.join(folder, f"{split}.json"), json.dumps({"languages": index}))
    write(os.path.join(folder, "udhr.json"), json.dumps({"en": {"text": "All human beings are born free.", "udhr_code": "eng"}}))


class BadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_missing_debian_package_is_named(self):
        with self.assertRaises(fetch_sources.MissingPackage) as ctx:
            fetch_sources.download(["fairspec-no-such-package"], cache_dir=self.dir)
        self.assertIn("fairspec-no-such-package", str(ctx.exception))

    def test_empty_language_is_named(self):
        corpus = os.path.join(self.dir, "corpus")
        write_corpus(corpus, {"de": "Die Datei wird geöffnet. " * 40, "xh": ""})
        code, message = run_stage("-m", "fairspec_train.train_verifier", "--corpus", corpus,
                                  "--out", os.path.join(self.dir, "v"), "--max-steps", "1")
        self.assertNotEqual(code, 0)
        self.assertEqual(message, "corpus train: languages with no text: xh")

    def test_missing_corpus_file_is_named(self):
        code, message = run_stage("-m", "fairspec_train.train_verifier", "--corpus", os.path.join(self.dir, "nowhere"),
                                  "--out", os.path.join(self.dir, "v"), "--max-steps", "1")
        self.assertNotEqual(code, 0)
        self.assertIn("corpus file missing", message)
        self.assertIn(os.path.join(self.dir, "nowhere", "train.bin"), message)

    def test_pipeline_without_corpus_says_so(self):
        code, message = run_stage("pipeline.py", "--profile", "toy", "--work", self.dir, "--from", "verifier")
        self.assertNotEqual(code, 0)
        self.assertIn("corpus missing", message)

    def test_corrupt_checkpoint_is_named(self):
        ckpt = os.path.join(self.dir, "verifier")
        os.makedirs(ckpt)
        write(os.path.join(ckpt, "config.json"), json.dumps({"n_layer": 1, "n_head": 1, "n_embd": 8, "n_positions": 16, "vocab_size": 257}))
        write(os.path.join(ckpt, "pytorch_model.bin"), b"not a checkpoint, half a download")
        code, message = run_stage("-m", "fairspec_train.export_onnx", "--checkpoint", ckpt, "--out", os.path.join(self.dir, "out"), "--parity-dir", os.path.join(self.dir, "parity"))
        self.assertNotEqual(code, 0)
        self.assertTrue(message.startswith(f"corrupt checkpoint {ckpt}/pytorch_model.bin"), message)

    def test_incomplete_checkpoint_is_named(self):
        ckpt = os.path.join(self.dir, "drafter")
        os.makedirs(ckpt)
        code, message = run_stage("-m", "fairspec_train.export_onnx", "--checkpoint", ckpt, "--out", os.path.join(self.dir, "out"), "--parity-dir", os.path.join(self.dir, "parity"))
        self.assertNotEqual(code, 0)
        self.assertEqual(message, f"checkpoint incomplete: {ckpt}/config.json is missing")

    def test_truncated_transport_part_is_named(self):
        part = os.path.join(self.dir, "base.part00")
        write(part, b"PK\x03\x04 truncated")
        code, message = run_stage("-m", "fairspec_train.shards", "unpack", "--work", self.dir, part)
        self.assertNotEqual(code, 0)
        self.assertIn("do not form one bundle", message)


if __name__ == "__main__":
    unittest.main()
