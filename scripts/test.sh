#!/usr/bin/env bash
# The test command (README): format and vet checks, then every test of the
# module with the PostgreSQL backend included when PostgreSQL is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=0

echo "=== gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt needed on:"; echo "$bad"; exit 1; fi

echo "=== go vet"
go vet ./...

echo "=== go build"
go build -o /dev/null ./cmd/...

if [ -z "${DROVER_TEST_POSTGRES:-}" ]; then
  if out=$(scripts/pg-test.sh start); then
    eval "$out"
    trap 'scripts/pg-test.sh stop >/dev/null 2>&1 || true' EXIT
  else
    echo "PostgreSQL could not be started: PostgreSQL backend tests will skip (and say why)" >&2
  fi
fi

echo "=== go test"
go test -count=1 -timeout 20m "$@" ./...
