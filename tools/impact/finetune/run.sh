#!/usr/bin/env bash
# Builds and runs the fine-tuning experiment (Program.cs; docs/impact-scoring.md, "Fine-tuned transformer
# (experiment)"). Called by ./platform.sh train-outcomes --fine-tune [phase…].
#
# The only TorchSharp served here (TorchSharp-cpu 0.107.0) ships a libLibTorchSharp.so built against GCC 13's
# libstdc++ (GLIBCXX_3.4.32); Debian 12 has 3.4.30, and Debian 13's libstdc++ in turn needs glibc 2.38. So the
# experiment runs on Debian 13's C runtime without touching the system's libraries: apt (with a private list
# directory under .platform/, verifying the signed index and each package's SHA-256) downloads libc6, libstdc++6,
# libgcc-s1 and libgomp1 from trixie; they are unpacked under .platform/; a copy of the dotnet host whose ELF
# interpreter is trixie's ld.so (patchelf) runs the tool with LD_LIBRARY_PATH on those libraries only. The build
# itself uses the system dotnet. Nothing here is part of Platform.sln or CI.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
STATE="${PLATFORM_STATE_DIR:-$ROOT/.platform}/finetune"
RUNTIME="$STATE/trixie"
APT="$STATE/apt"
# The versions this experiment was run with; apt takes trixie's current version when a point release replaced one.
PACKAGES=(libc6=2.41-12+deb13u5 libstdc++6=14.2.0-19 libgcc-s1=14.2.0-19 libgomp1=14.2.0-19)

apt_trixie() {
  apt-get -q -o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache" -o APT::Architecture=amd64 "$@"
}

runtime() {
  [ -e "$RUNTIME/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" ] && return
  mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/debs" "$RUNTIME"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" > "$APT/sources.list"
  apt_trixie update
  (
    cd "$APT/debs"
    for p in "${PACKAGES[@]}"; do
      apt_trixie download "$p" 2>/dev/null || { echo "  $p is gone from trixie; taking its current version"; apt_trixie download "${p%%=*}"; }
    done
  )
  for deb in "$APT/debs"/*.deb; do dpkg-deb -x "$deb" "$RUNTIME"; echo "  unpacked $(basename "$deb")"; done
}

patched_dotnet() {
  local host; host="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  [ -x "$STATE/dotnet/dotnet" ] && return
  command -v patchelf >/dev/null || { apt-get -q update && apt-get install -y -q patchelf; }
  mkdir -p "$STATE/dotnet"
  for entry in "$host"/*; do [ "$(basename "$entry")" = dotnet ] || ln -sfn "$entry" "$STATE/dotnet/$(basename "$entry")"; done
  cp "$host/dotnet" "$STATE/dotnet/dotnet.tmp"
  patchelf --set-interpreter "$RUNTIME/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$STATE/dotnet/dotnet.tmp"
  mv "$STATE/dotnet/dotnet.tmp" "$STATE/dotnet/dotnet"
}

runtime
patched_dotnet
nice -n 10 dotnet build "$ROOT/tools/impact/finetune" -c Release -o "$STATE/bin" -v q -nologo
cd "$ROOT"
exec nice -n 10 env LD_LIBRARY_PATH="$RUNTIME/usr/lib/x86_64-linux-gnu" DOTNET_ROOT="$STATE/dotnet" \
  "$STATE/dotnet/dotnet" "$STATE/bin/Platform.Tools.OutcomeFineTune.dll" "$@"
