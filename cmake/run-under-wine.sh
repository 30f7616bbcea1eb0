#!/usr/bin/env bash
# Runs a Windows program under Wine and returns its exit code, then waits for the
# wineserver to end, so that no Wine process outlives a build step.
#
#   run-under-wine.sh [--timeout SECONDS] [--dll-dir DIR]... PROGRAM [ARGUMENTS...]
#
# --timeout ends the program (and every Wine process of the prefix) if it has not finished after
# SECONDS, and exits with 124 after saying so: a hang fails the build step instead of stopping it.
# --dll-dir adds a folder to the DLL search path (WINEPATH), for programs whose DLL is
# built into another folder. The prefix lives in the cache folder, never in the work tree
# (XNNKLEIDI_WINEPREFIX overrides it); the first run creates it, which takes several seconds.
# No display is needed: Wine's Mono and Gecko installers are switched off while the prefix is
# created. (Not afterwards: .NET loads its IL assemblies through Wine's mscoree.dll.)
set -euo pipefail
dll_dirs=()
timeout_seconds=""
while [[ "${1:-}" == --dll-dir || "${1:-}" == --timeout ]]; do
  case "$1" in
    --dll-dir) dll_dirs+=("$2") ;;
    --timeout) timeout_seconds="$2" ;;
  esac
  shift 2
done
program="${1:?usage: run-under-wine.sh [--timeout SECONDS] [--dll-dir DIR]... PROGRAM [ARGUMENTS...]}"
shift
command -v wine >/dev/null || { echo "run-under-wine.sh: wine is not installed (apt-get install wine wine64)" >&2; exit 127; }

export WINEPREFIX="${XNNKLEIDI_WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/xnnkleidi/wine-prefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
export WINEARCH=win64
if [[ ! -f "$WINEPREFIX/system.reg" ]]; then
  mkdir -p "$(dirname "$WINEPREFIX")"
  WINEDLLOVERRIDES="mscoree,mshtml=" wineboot --init >/dev/null 2>&1 \
    || { echo "run-under-wine.sh: could not create the Wine prefix $WINEPREFIX" >&2; exit 1; }
  wineserver -w || true
fi
# A program that dies of an unhandled exception must end, as on a Windows machine with no debugger
# registered, instead of waiting for the winedbg that Wine starts by default, which never returns
# without a console. With an empty debugger command Wine cannot start one and ends the process.
if ! grep -q '^"Debugger"=""' "$WINEPREFIX/system.reg"; then
  wine reg add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' /v Debugger /t REG_SZ /d "" /f >/dev/null 2>&1 \
    || { echo "run-under-wine.sh: could not switch off the automatic debugger in $WINEPREFIX" >&2; exit 1; }
  wineserver -w || true
fi
if (( ${#dll_dirs[@]} > 0 )); then
  # Wine maps the Unix root to drive Z:, and WINEPATH takes Windows paths separated by ';'.
  winepath=""
  for dir in "${dll_dirs[@]}"; do
    winepath+="${winepath:+;}Z:$(cd "$dir" && pwd | tr / '\\')"
  done
  export WINEPATH="$winepath${WINEPATH:+;$WINEPATH}"
fi

status=0
if [[ -n "$timeout_seconds" ]]; then
  timeout --kill-after=30 "$timeout_seconds" wine "$program" "$@" || status=$?
  if (( status == 124 || status == 137 )); then
    echo "run-under-wine.sh: $program did not finish within $timeout_seconds s (a hang); ending every Wine process of $WINEPREFIX" >&2
    wineserver -k || true
    exit 124
  fi
else
  wine "$program" "$@" || status=$?
fi
wineserver -w || true
exit "$status"
