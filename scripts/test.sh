#!/usr/bin/env bash
# Runs every test of the project: the bun suites in __test__/ (with a JUnit
# report) and the Rust unit tests (cargo test). Ends with one line
# "tests: N passed, N failed" counted from both, and fails if either failed.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp
rm -f .tmp/junit.xml .tmp/cargo-test.log

# Litestream and the S3 test server for the replication suites (pinned, into .tmp/venv).
# A failure here is not fatal: those suites then fail loudly, naming this script.
bash scripts/install-replication-tools.sh || echo "scripts/test.sh: installing the replication tools failed" >&2

./node_modules/.bin/bun test --timeout 120000 --reporter=junit --reporter-outfile=.tmp/junit.xml
bun_status=$?

cargo test --color never 2>&1 | tee .tmp/cargo-test.log
cargo_status=${PIPESTATUS[0]}

node scripts/count-tests.js .tmp/junit.xml .tmp/cargo-test.log
count_status=$?

[ "$bun_status" -eq 0 ] && [ "$cargo_status" -eq 0 ] && [ "$count_status" -eq 0 ]
