#!/usr/bin/env bash
# Checks the packed `xnnkleidi` .NET tool the way a user will meet it, and fails on the first class
# of problem found:
#   * for every RID given, the tool carries libxnnkleidi.so and the C harness xnnkleidi-bench;
#   * it carries no other platform's native files (ONNX Runtime and SkiaSharp bring them for every
#     platform);
#   * installed with `dotnet tool install --tool-path` into a throw-away folder, `xnnkleidi info`
#     runs, and a small `bench --compare native,peak` finds and starts its C harness (NuGet does not
#     keep the execute bit, so the tool must restore it).
#
# Usage: validate-tool-package.sh TOOL.nupkg RID...
set -euo pipefail
package="${1:?usage: validate-tool-package.sh TOOL.nupkg RID...}"
shift
(( $# > 0 )) || { echo "usage: validate-tool-package.sh TOOL.nupkg RID..." >&2; exit 2; }
rids=("$@")
[[ -f "$package" ]] || { echo "FAIL: $package does not exist"; exit 1; }
package_name="$(basename "$package")"

failed=0
fail() { echo "FAIL: $*"; failed=1; }

entries="$(unzip -Z1 "$package")"
for rid in "${rids[@]}"; do
  for file in libxnnkleidi.so xnnkleidi-bench; do
    grep -qE "^tools/net[0-9.]+/any/runtimes/${rid}/native/${file//./\\.}\$" <<<"$entries" \
      || fail "$package_name lacks runtimes/$rid/native/$file"
  done
done
allowed="$(IFS='|'; echo "${rids[*]}")"
foreign="$(grep -oE '/runtimes/[^/]+/' <<<"$entries" | sort -u | grep -vE "^/runtimes/($allowed)/\$" || true)"
[[ -z "$foreign" ]] || fail "$package_name carries native files for: $(tr '\n' ' ' <<<"$foreign")"
(( failed == 0 )) || exit 1
echo "$package_name: $(( $(stat -c %s "$package") / 1048576 )) MiB, runtimes ${rids[*]} only"

version="$(sed -E 's/^XnnKleidi\.Cli\.(.+)\.nupkg$/\1/' <<<"$package_name")"
tool_path="$(mktemp -d)"
trap 'rm -rf "$tool_path"' EXIT
dotnet tool install XnnKleidi.Cli --version "$version" --tool-path "$tool_path" --add-source "$(dirname "$package")" >/dev/null
"$tool_path/xnnkleidi" info
output="$("$tool_path/xnnkleidi" bench --shape 16x256x256 --compare native,peak --iterations 20 --quiet)"
echo "$output"
grep -qF " 0 could not run" <<<"$output" || fail "the installed tool could not run its C harness (--compare native)"
(( failed == 0 )) || exit 1
echo "$package_name: installed and ran, C harness included"
