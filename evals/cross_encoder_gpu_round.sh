#!/usr/bin/env bash
# One call on a lent GPU machine: train the cross-encoder's variants of a round side by side.
#
#   bash evals/cross_encoder_gpu_round.sh DATA.npz SWAP.npz OUT_DIR   (on the GPU machine)
#
# DATA.npz: `cross_encoder_build.py data`; SWAP.npz: `cross_encoder_build.py swap DATA SWAP`;
# .gpu/model: the bundled model folder in fp16 (CROSS-ENCODER.md, Reproduce). Variants:
#   A  the shipped recipe (4 epochs) on all training rows        -> candidate to ship
#   B  A plus the swapped-name negatives                          -> candidate to ship
#   C  A with 6 epochs                                            -> candidate to ship
#   D, E  A on 25 % and 50 % of the training questions            -> the learning curve
# Each stops after LIMIT seconds (default 520) keeping its last finished epoch. OUT_DIR gets A's
# weights, those of whichever of B and C has the higher dev AUC at its last epoch (as files the
# device tool brings back: at most 8), and every log and dev score in one archive.
set -u
DATA=$1 SWAP=$2 OUT=$3 LIMIT=${LIMIT:-520}
W=/tmp/ce-round
mkdir -p "$W" "$OUT"
nvidia-smi -L || true
export OMP_NUM_THREADS=2 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
run() {  # name data [options]
  local name=$1 data=$2; shift 2
  timeout "$LIMIT" python3 evals/train_cross_encoder.py "$data" .gpu/model "$W/$name" \
    --bucket --budget 100000 "$@" ${EXTRA:-} >"$W/$name.log" 2>&1 &
}
run A "$DATA" --epochs 4
run B "$SWAP" --epochs 4
run C "$DATA" --epochs 6
run D "$DATA" --epochs 4 --fraction 0.25
run E "$DATA" --epochs 4 --fraction 0.5
wait
for v in A B C D E; do echo "== $v"; grep '^{' "$W/$v.log"; tail -n 2 "$W/$v.log"; done
best=$(python3 - "$W" <<'PY'
import json, sys
from pathlib import Path
def last_auc(v):
    lines = [json.loads(l) for l in (Path(sys.argv[1]) / f"{v}.log").read_text().splitlines()
             if l.startswith("{") and '"auc"' in l]
    return (lines[-1]["auc"] or -1) if lines else -1
print(max("BC", key=last_auc))
PY
)
echo "returned: A and $best"
for v in A "$best"; do mkdir -p "$OUT/$v"; cp "$W/$v"/weights-L6-*.pt "$OUT/$v/" 2>/dev/null; done
tar -czf "$OUT/logs.tgz" -C "$W" $(cd "$W" && ls -d *.log */scores-*.npz 2>/dev/null)
ls -la "$OUT" "$OUT"/*
