#!/usr/bin/env bash
# Checks the Lambda zips `make package` built: each exists, is under 5 MB, and its
# bootstrap needs no glibc newer than 2.34 (Amazon Linux 2023, provided.al2023).
# Usage: scripts/check-package.sh LAMBDA_DIR FUNCTION...
set -euo pipefail
dir=$1; shift
limit=$((5 * 1024 * 1024))
status=0
for f in "$@"; do
  zip="$dir/$f/bootstrap.zip"
  if [[ ! -f $zip ]]; then echo "$zip: missing" >&2; status=1; continue; fi
  size=$(stat -c %s "$zip")
  tmp=$(mktemp -d)
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("bootstrap", sys.argv[2])' "$zip" "$tmp"
  glibc=$(readelf --version-info "$tmp/bootstrap" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)
  rm -rf "$tmp"
  printf '%-20s %8d bytes  needs glibc %s\n' "$f" "$size" "${glibc:-none}"
  if (( size >= limit )); then echo "$zip: over 5 MB" >&2; status=1; fi
  if [[ -n $glibc && $(printf '%s\n2.34\n' "$glibc" | sort -V | tail -1) != 2.34 ]]; then
    echo "$zip: needs glibc $glibc, newer than Amazon Linux 2023's 2.34" >&2; status=1
  fi
done
exit $status
