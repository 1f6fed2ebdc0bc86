#!/usr/bin/env bash
# Fails when any C++ file of the project differs from what clang-format (14, .clang-format) makes
# of it. `scripts/check-format.sh --fix` rewrites the files instead.
set -euo pipefail
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-14 || command -v clang-format)
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- \
  '*.h' '*.cc' '*.cpp' | grep -v '^build' || true)
[ ${#files[@]} -gt 0 ] || exit 0
if [ "${1:-}" = "--fix" ]; then
  "$cf" -i --style=file "${files[@]}"
  exit 0
fi
if ! "$cf" --dry-run --Werror --style=file "${files[@]}" 2>/tmp/tessera-format.$$; then
  head -40 /tmp/tessera-format.$$ >&2
  rm -f /tmp/tessera-format.$$
  echo "check-format: files above are not clang-formatted; run scripts/check-format.sh --fix" >&2
  exit 1
fi
rm -f /tmp/tessera-format.$$
echo "check-format: ${#files[@]} files clean"
