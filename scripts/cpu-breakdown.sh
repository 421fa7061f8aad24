#!/usr/bin/env bash
# Where the ecs-event-handler bootstrap's CPU per event goes (BENCHMARKS.md, "Bootstrap
# CPU per event"): the bootstrap as packaged but with its symbols
# (`[profile.lambda-profile]`), run under callgrind by the Lambda benchmark
# (`tests/examples/lambda_bench.rs`, the handler's happy-path run against moto through
# the fault proxy and a local Runtime API). Instruction counts, so the split repeats on
# a noisy machine; they leave out the kernel (the process's system time, which the
# benchmark reports beside).
#
# Two runs, 1 event and N events (default 300): the difference divided by N - 1 is the
# cost of an event without the start-up. Each function's own instructions are put
# in the group of its crate (the first match of the patterns below, in order, on the
# demangled name), so the groups add up to the whole; then the inclusive cost per
# event of the entry points that name a piece of work (signing, the SDK's call, ...).
#
#   scripts/cpu-breakdown.sh [N]
#
# Needs valgrind (callgrind_annotate). Raw outputs go to target/cpu-breakdown/.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
out=target/cpu-breakdown
mkdir -p "$out"

if [[ ! -x .venv/bin/moto_server ]]; then
  echo "the AWS emulator is missing: run \`make test-setup\` first" >&2
  exit 1
fi
cargo build --profile lambda-profile -p ecs-event-handler >&2
cargo build -p integration-tests --example lambda-bench >&2

for events in 1 "$n"; do
  echo "== callgrind, $events event(s)" >&2
  BENCH_EVENTS=$events \
    BENCH_WRAP="valgrind --tool=callgrind --callgrind-out-file=$out/callgrind.$events.out" \
    target/debug/examples/lambda-bench target/lambda-profile handler > "$out/run.$events.json"
  callgrind_annotate --inclusive=no --threshold=100 "$out/callgrind.$events.out" \
    > "$out/self.$events.txt"
  callgrind_annotate --inclusive=yes --threshold=100 "$out/callgrind.$events.out" \
    > "$out/inclusive.$events.txt"
done

python3 - "$out" "$n" <<'PY'
import re, sys, collections
out, n = sys.argv[1], int(sys.argv[2])

# Function -> instructions, from callgrind_annotate's table ("  1,234 (0.5%)  file:fn").
def table(path):
    costs = collections.Counter()
    for line in open(path):
        m = re.match(r"\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(?:[*<>]\s+)?(?:\S*?:)?(.+?)\s*(?:\[[^\]]*\])?$", line)
        if m and not line.lstrip().startswith(("Ir", "--")) and "PROGRAM TOTALS" not in line:
            costs[m[2]] += int(m[1].replace(",", ""))
    return costs

def per_event(kind):
    one, many = table(f"{out}/{kind}.1.txt"), table(f"{out}/{kind}.{n}.txt")
    return {f: (many[f] - one.get(f, 0)) / (n - 1) for f in many}

GROUPS = [
    ("SigV4 signing (aws-sigv4, SHA-256/HMAC)", r"aws_sigv4|sha256|sha2|hmac|aws_lc|ring::"),
    ("HTTP (hyper, h1, http, the Runtime API client)", r"hyper|httparse|\bhttp::|http_body|lambda_runtime_api_client|aws_smithy_http_client"),
    ("deflate / inflate (miniz_oxide)", r"miniz_oxide|flate2"),
    ("DynamoDB / SNS / ECS request and response bodies (SDK serde)", r"protocol_serde|aws_smithy_json|aws_smithy_query|aws_smithy_cbor"),
    ("JSON (serde_json: the event, the EMF and log lines)", r"serde_json|serde::"),
    ("logging and tracing (tracing, tracing-subscriber)", r"tracing"),
    ("tokio runtime", r"tokio|mio::"),
    ("SDK call orchestration (smithy runtime, interceptors, endpoints, retries)", r"aws_smithy|aws_runtime|aws_types|aws_sdk_|aws_config|aws_credential"),
    ("lambda_runtime (invocation loop)", r"lambda_runtime"),
    ("the library (rollout_watcher)", r"rollout_watcher|ecs_event_handler"),
    ("allocator (malloc/free)", r"malloc|free|realloc|calloc|memalign|_int_|tcache|arena"),
    ("memcpy/memmove/memset/strlen (libc)", r"mem(cpy|move|set|cmp|chr)|str(len|cmp|chr)|__memc"),
    ("std / core / alloc (fmt, collections, hashing)", r"^<?(std|core|alloc)::|hashbrown|fmt|<\w+ as core"),
]
self_cost = per_event("self")
total = sum(v for v in self_cost.values() if v > 0)
groups = collections.Counter()
top_other = collections.Counter()
for f, v in self_cost.items():
    for name, pat in GROUPS:
        if re.search(pat, f):
            groups[name] += v
            break
    else:
        groups["other"] += v
        top_other[f] += v

print(f"ecs-event-handler bootstrap, instructions per event (callgrind, {n} events minus 1): {total:,.0f}\n")
print("| group (own instructions of its functions) | instructions per event | share |")
print("|---|---|---|")
for name, v in groups.most_common():
    print(f"| {name} | {v:,.0f} | {100 * v / total:.1f} % |")
print("\nlargest functions left in 'other':")
for f, v in top_other.most_common(10):
    print(f"  {v:>12,.0f}  {f[:150]}")

ENTRY = [
    ("SigV4 signing", r"aws_sigv4::http_request::sign::sign\b|SigV4Signer as .*sign_http_request"),
    ("an SDK call, whole (orchestrator invoke)", r"aws_smithy_runtime::client::orchestrator::invoke_with_stop_point"),
    ("endpoint resolution", r"resolve_endpoint|endpoint_lib|DefaultResolver"),
    ("deflate", r"miniz_oxide::deflate::compress_to_vec"),
    ("tracing subscriber events", r"tracing_subscriber::fmt::fmt_layer::.*on_event"),
]
inc = per_event("inclusive")
print("\n| entry point (inclusive: it and all it calls) | instructions per event | share |")
print("|---|---|---|")
for name, pat in ENTRY:
    hits = [(v, f) for f, v in inc.items() if re.search(pat, f)]
    if hits:
        v, f = max(hits)
        print(f"| {name} (`{f[:80]}`) | {v:,.0f} | {100 * v / total:.1f} % |")
print("\ntop inclusive functions per event:")
for f, v in sorted(inc.items(), key=lambda kv: -kv[1])[:40]:
    print(f"  {v:>12,.0f}  {f[:150]}")
PY

# Natively (callgrind hides the CPU's SHA extensions, so SHA-256 runs in software
# there): perf's CPU-clock samples of the same run, 1,000 events, DWARF call graphs,
# each function's share of the process's samples with everything it calls. Skipped
# when perf cannot sample here.
if perf record -e cpu-clock -o "$out/probe.data" true >/dev/null 2>&1; then
  echo "== perf, 1000 events" >&2
  BENCH_EVENTS=1000 \
    BENCH_WRAP="perf record -e cpu-clock -F 4000 --call-graph dwarf,16384 -o $out/perf.data --" \
    target/debug/examples/lambda-bench target/lambda-profile handler > "$out/run.perf.json"
  perf report -i "$out/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' > "$out/perf-dso.txt" || true
  perf report -i "$out/perf.data" --children --sort sym --stdio -g none 2>/dev/null \
    | grep '%' > "$out/perf-children.txt" || true
  echo
  echo "native, share of the process's CPU samples by object (perf, 1000 events):"
  head -6 "$out/perf-dso.txt"
  echo
  echo "native, inclusive share of named pieces of work:"
  for pat in 'SigV4Signer as .*sign_http_request' 'orchestrator::try_op::\{\{closure\}\}::\{\{closure\}\}$' \
    'orchestrator::apply_configuration' 'PutItemRequestSerializer.*serialize_input' \
    'ConnectingTcpRemote::connect' '__GI___writev' 'epoll_wait$' \
    'Deserialize for serde_json::value::Value>::deserialize$' 'Value as core::fmt::Display>::fmt' \
    'dynamodb_ext::live_item' 'dynamodb_ext::record_from_item' 'tracing_core::event::Event::dispatch' \
    'miniz_oxide::deflate' 'policy::machine.*apply' '_int_malloc$' '__memmove'; do
    grep -E -m1 "$pat" "$out/perf-children.txt" || true
  done
fi
