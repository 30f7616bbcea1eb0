#!/usr/bin/env bash
# Checks the packed `xnnkleidi` .NET tool the way a user will meet it, and fails on the first class
# of problem found:
#   * it carries every native file given (the library per RID, and the C harness xnnkleidi-bench
#     where it is built), each under runtimes/<rid>/native/;
#   * it carries no native files of any other platform (ONNX Runtime and SkiaSharp bring them for
#     every platform);
#   * installed with `dotnet tool install --tool-path` into a throw-away folder, `xnnkleidi info`
#     runs, and a small `bench --compare native,peak` finds and starts its C harness (NuGet does not
#     keep the execute bit, so the tool must restore it).
#
# Usage: validate-tool-package.sh TOOL.nupkg RID/FILE...
#   RID/FILE: each native file the tool must carry, e.g. linux-x64/xnnkleidi-bench or win-x64/libxnnkleidi.dll.
set -euo pipefail
package="${1:?usage: validate-tool-package.sh TOOL.nupkg RID/FILE...}"
shift
(( $# > 0 )) || { echo "usage: validate-tool-package.sh TOOL.nupkg RID/FILE..." >&2; exit 2; }
files=("$@")
mapfile -t rids < <(printf '%s\n' "${files[@]%%/*}" | sort -u)
[[ -f "$package" ]] || { echo "FAIL: $package does not exist"; exit 1; }
package_name="$(basename "$package")"

failed=0
fail() { echo "FAIL: $*"; failed=1; }

entries="$(unzip -Z1 "$package")"
for file in "${files[@]}"; do
  rid="${file%%/*}" name="${file#*/}"
  grep -qE "^tools/net[0-9.]+/any/runtimes/${rid}/native/${name//./\\.}\$" <<<"$entries" \
    || fail "$package_name lacks runtimes/$rid/native/$name"
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
