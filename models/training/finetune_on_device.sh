#!/bin/sh
# Re-runs the fine-tune stage of a pack on a GPU machine, from the pack's own verifier and
# baseline drafter, then its report on those fine-tunes, so a drafter recipe can change
# without retraining the pair it distils. The bundle comes from the CPU machine:
#   cd models/training
#   for m in verifier drafter-baseline; do
#     /usr/bin/python3 -m fairspec_train.from_onnx --model ../default/$m --out W/checkpoints/$m; done
#   /usr/bin/python3 -m fairspec_train.shards pack --work W --names verifier,drafter-baseline --out BUNDLE --prefix base
#   /usr/bin/python3 -m fairspec_train.recorded_timing --report ../default/eval.json --out BUNDLE/timing
#   tar -cJf BUNDLE/corpus.tar.xz -C W corpus          # build_corpus.py's output
# There:
#   sh models/training/finetune_on_device.sh OUT_DIR BUNDLE [WORK]
# OUT_DIR gets finetune.part* (drafter-scdf, -scdf-k, -scdf-kl, -balanced, -cont and the specialists, float16) and the report
# (eval.json, routing.json, report.svg) computed from exactly those float16 weights. Here:
#   /usr/bin/python3 -m fairspec_train.shards unpack --work W OUT_DIR/finetune.part*
# then export drafter-scdf and the specialists (fairspec_train.export_onnx), check it (check_onnx.mjs), copy the
# report into the pack and write the cards (fairspec_train.cards).
set -eu
# Every fine-tuned checkpoint: drafter-scdf, both weightings, the controls, the specialists.
fine_tunes() { (cd "$work/checkpoints" && ls -d drafter-* | grep -v -x -e drafter-baseline -e drafter-warmup | paste -sd, -); }
out=$1 bundle=$(cd "$2" && pwd) work=${3:-/tmp/fairspec-finetune}
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-python3} profile=${PROFILE:-gpu} device=${DEVICE:-cuda}
export FAIRSPEC_TORCH_THREADS=${FAIRSPEC_TORCH_THREADS:-8}
mkdir -p "$out" "$work"
out=$(cd "$out" && pwd)
"$py" -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$bundle/corpus.tar.xz" "$work"
cd "$here"
"$py" -m fairspec_train.shards unpack --work "$work" "$bundle"/base.part*
"$py" -u pipeline.py --profile "$profile" --work "$work" --from finetune --until specialists
"$py" -m fairspec_train.shards pack --work "$work" --names "$(fine_tunes)" --out "$out" --prefix finetune
"$py" -m fairspec_train.shards unpack --work "$work" "$out"/finetune.part*
report_args=$("$py" -c "import sys; from fairspec_train.profiles import PROFILES; print(' '.join(PROFILES[sys.argv[1]]['report']))" "$profile")
# shellcheck disable=SC2086
"$py" -u -m fairspec_train.report --corpus "$work/corpus" --work "$work/checkpoints" --pack "$work/pack" \
  --verifier-timing "$bundle/timing/verifier.json" --drafter-timing "$bundle/timing/drafter-baseline.json" \
  --device "$device" $report_args 2>&1 | tee "$out/report.log"
cp "$work/pack/eval.json" "$work/pack/routing.json" "$work/pack/report.svg" "$out/"
