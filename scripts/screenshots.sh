#!/usr/bin/env bash
# Renders the demo's HTML page for a scenario and screenshots it with headless
# Chromium: the README's pictures. Usage: screenshots.sh BINARY OUTDIR
set -euo pipefail
bin=${1:?usage: screenshots.sh BINARY OUTDIR}
out=${2:?usage: screenshots.sh BINARY OUTDIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
# scenario:height, tall enough for the chart, the task table and the alerts.
for spec in success:900 zero-running:1010; do
  s=${spec%%:*}
  h=${spec##*:}
  "$bin" demo --scenario "$s" --html "$work/$s.html" >/dev/null
  chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-quic --hide-scrollbars --user-data-dir="$work/profile-$s" \
    --window-size="1040,$h" --screenshot="$out/demo-$s.png" \
    "file://$work/$s.html" 2>/dev/null
  echo "$out/demo-$s.png: $(wc -c < "$out/demo-$s.png") bytes"
done
