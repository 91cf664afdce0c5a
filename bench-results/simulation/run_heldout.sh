#!/usr/bin/env bash
# The held-out A/B runs of the README (default vs popularity, both simulator difficulties) and the
# 1,000-user timing run. Run from the project root with the venv active; took 20 min on 2 busy cores (load ~6).
#
# ReDial: the models are trained without the last 250 dialogues of the shared training file, which are
# the simulated users:
#   mkdir -p $SPLIT/redial && head -n 2020 $DATA/redial/train_data.jsonl > $SPLIT/redial/train_data.jsonl
#   tail -n 250 $DATA/redial/train_data.jsonl > $SPLIT/heldout.jsonl
#   ln -s $DATA/redial/movies_with_mentions.csv $DATA/redial/movie_metadata.json $SPLIT/redial/
# (`crs simulate --redial-holdout 250 ...` makes the byte-identical split itself, under the artifacts dir;
# this script keeps the directory the published runs used.)
# MovieLens: `--movielens` holds out the last 10 ratings of 200 users and trains on a copy without them.
set -euo pipefail
DATA=${DATA:-/work/shared/data}
SPLIT=${SPLIT:-/tmp/simsplit}
ML_ARTIFACTS=${ML_ARTIFACTS:-/tmp/simml/artifacts}
OUT=${OUT:-bench-results/simulation}
if [ ! -f "$SPLIT/heldout.jsonl" ]; then
  mkdir -p "$SPLIT/redial"
  head -n 2020 "$DATA/redial/train_data.jsonl" > "$SPLIT/redial/train_data.jsonl"
  tail -n 250 "$DATA/redial/train_data.jsonl" > "$SPLIT/heldout.jsonl"
  ln -sf "$DATA/redial/movies_with_mentions.csv" "$DATA/redial/movie_metadata.json" "$SPLIT/redial/"
fi
uptime
for difficulty in default hard; do
  suffix=$([ "$difficulty" = default ] && echo "" || echo "-hard")
  CRS_REDIAL_DIR=$SPLIT/redial CRS_ARTIFACTS_DIR=$SPLIT/artifacts crs simulate --arm-a default \
    --arm-b popularity --dialogues "$SPLIT/heldout.jsonl" --users 250 --turns 5 --seed 0 \
    --difficulty "$difficulty" --output-dir "$OUT/heldout$suffix"
  CRS_ARTIFACTS_DIR=$ML_ARTIFACTS crs simulate --arm-a default --arm-b popularity \
    --movielens "$DATA/movielens/ml-latest-small" --users 200 --holdout 10 --turns 5 --seed 0 \
    --difficulty "$difficulty" --output-dir "$OUT/movielens-heldout$suffix"
done
python -m dialogue.simulation.overview "$OUT/overview.png" "$OUT/heldout" "$OUT/heldout-hard" \
  "$OUT/movielens-heldout" "$OUT/movielens-heldout-hard"
uptime
start=$(date +%s)
CRS_REDIAL_DIR=$SPLIT/redial CRS_ARTIFACTS_DIR=$SPLIT/artifacts crs simulate --arm-a default \
  --arm-b popularity --dialogues "$DATA/redial/train_data.jsonl" --users 1000 --turns 5 --seed 1 \
  --output-dir "$OUT/benchmark-1000"
echo "benchmark-1000 wall clock: $(( $(date +%s) - start )) s"
rm -f "$OUT/benchmark-1000/outcomes.jsonl"  # 2,000 dialogues of text: not kept in the repository
uptime
