#!/usr/bin/env bash
# Checks that two packs of the same inputs hold the same bytes: every entry of the
# first .nupkg is in the second with the same content, and no other entry is. NuGet's
# own metadata part (package/services/metadata/core-properties/<random>.psmdcp) and the
# zip entries' timestamps are the only things allowed to differ.
#
# Usage: compare-packages.sh FIRST.nupkg SECOND.nupkg
set -euo pipefail
first="${1:?usage: compare-packages.sh FIRST.nupkg SECOND.nupkg}"
second="${2:?usage: compare-packages.sh FIRST.nupkg SECOND.nupkg}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unzip -q "$first" -d "$work/first"
unzip -q "$second" -d "$work/second"
rm -rf "$work"/first/package/services "$work"/second/package/services
if ! diff -r "$work/first" "$work/second" > "$work/diff.txt"; then
  echo "FAIL: two packs of the same inputs differ:"
  head -20 "$work/diff.txt"
  exit 1
fi
echo "deterministic: $(basename "$first") and its rebuild hold the same bytes ($(find "$work/first" -type f | wc -l) files)"
