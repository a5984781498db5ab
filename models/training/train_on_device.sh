#!/bin/sh
# Trains the pack's checkpoints on a GPU machine (pipeline stages corpus..specialists) and
# writes them, float16, in parts of at most 15 MiB under OUT_DIR, for a machine that can
# only send back a few small files. The base pair (verifier, drafter-baseline) is written
# before the fine-tunes start, so it survives a fine-tune that fails or runs out of time.
#   sh models/training/train_on_device.sh OUT_DIR CORPUS_TAR_GZ [WORK]
# Then, on the CPU machine:
#   /usr/bin/python3 -m fairspec_train.shards unpack --work WORK OUT_DIR/*.part*
#   /usr/bin/python3 models/training/pipeline.py --work WORK --from export
set -eu
# Every fine-tuned checkpoint: drafter-scdf, both weightings, the controls, the specialists.
fine_tunes() { (cd "$work/checkpoints" && ls -d drafter-* | grep -v -x -e drafter-baseline -e drafter-warmup | paste -sd, -); }
out=$1 corpus_tar=$2 work=${3:-/tmp/fairspec-work}
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-python3} profile=${PROFILE:-gpu}
mkdir -p "$out" "$work"
tar -xzf "$corpus_tar" -C "$work"
"$py" -u "$here/pipeline.py" --profile "$profile" --work "$work" --until drafter
cd "$here"
"$py" -m fairspec_train.shards pack --work "$work" --names verifier,drafter-baseline --out "$out" --prefix base
if timeout "${FINETUNE_SECONDS:-120}" "$py" -u pipeline.py --profile "$profile" --work "$work" --until specialists; then
  "$py" -m fairspec_train.shards pack --work "$work" --names "$(fine_tunes)" --out "$out" --prefix finetune
else
  echo "fine-tunes failed or ran out of time: only the base pair was written"
fi
