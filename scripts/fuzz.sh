#!/usr/bin/env bash
# Coverage-guided fuzzing of the event decoder and the replay reader (cargo-fuzz,
# libFuzzer), time-boxed. Fails when a target crashes; the crashing input is left in
# fuzz/artifacts/<target>/ and cargo-fuzz prints how to reproduce it.
#
# Usage: scripts/fuzz.sh [SECONDS]    (SECONDS per target, default 30)
#
# On the stable toolchain: with `--sanitizer none` (the default here) cargo-fuzz needs
# no unstable rustc flag at all. The code under test is safe Rust, so AddressSanitizer
# finds nothing more; it slows each run some 20x and doubles the build. libFuzzer still
# catches panics, stack overflows, timeouts and memory blow-ups. To use it anyway,
# FUZZ_SANITIZER=address: it needs -Zsanitizer, which stable rustc accepts with
# RUSTC_BOOTSTRAP=1 (set below only then).
set -euo pipefail

per_target=${1:-30}
sanitizer=${FUZZ_SANITIZER:-none}
cargo_fuzz_version=0.13.2
targets=(decode_event replay_reader)

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"

if ! cargo fuzz --version 2>/dev/null | grep -qF "$cargo_fuzz_version"; then
    cargo install --locked cargo-fuzz --version "$cargo_fuzz_version"
fi
if [[ $sanitizer != none ]]; then
    export RUSTC_BOOTSTRAP=1
fi

# Seed: every real sample as one input; for the reader also all of them in one file,
# as pretty objects one after another and as a JSON array.
samples=("$root"/tests/fixtures/samples/*.json)
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    cp "${samples[@]}" "corpus/$target/"
done
cat "${samples[@]}" >corpus/replay_reader/all-samples-concatenated.json
{
    printf '[\n'
    first=1
    for f in "${samples[@]}"; do
        [[ $first == 1 ]] || printf ',\n'
        first=0
        cat "$f"
    done
    printf '\n]\n'
} >corpus/replay_reader/all-samples-array.json

cargo fuzz build --sanitizer "$sanitizer"
mkdir -p target
for target in "${targets[@]}"; do
    log=target/$target.log
    echo "fuzz: $target for ${per_target}s (log: fuzz/$log)"
    if ! cargo fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" -- \
        -max_total_time="$per_target" -dict=ecs.dict -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$log" 2>&1; then
        tail -n 80 "$log"
        echo "fuzz: $target FAILED; the input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    grep -E '^(Done|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb))' "$log" || true
done
echo "fuzz: ${#targets[@]} targets, ${per_target}s each, no crash"
