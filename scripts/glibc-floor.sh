#!/usr/bin/env bash
# Prints the newest glibc symbol version a binary needs (from `objdump -T`),
# e.g. "2.17"; with a second argument, fails when that version is exceeded:
#   scripts/glibc-floor.sh hardened-sqlite.linux-x64-gnu.node 2.17
set -euo pipefail
file="$1"
newest="$(objdump -T "$file" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)"
[ -n "$newest" ] || { echo "glibc-floor: no GLIBC symbol versions in $file" >&2; exit 1; }
echo "$newest"
if [ $# -ge 2 ] && [ "$(printf '%s\n%s\n' "$newest" "$2" | sort -V | tail -n 1)" != "$2" ]; then
  echo "glibc-floor: $file needs glibc $newest, newer than the $2 it must run on" >&2
  exit 1
fi
