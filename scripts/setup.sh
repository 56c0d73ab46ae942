#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine needs to build, test and run DataflowContrastive, then restores packages.
# Safe to run again: each step checks first and does nothing when its part is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# SkiaSharp links against fontconfig and freetype; the JPEG decoder uses the SIMD TurboJPEG library when present.
for pkg in libfontconfig1 libfreetype6 libturbojpeg0; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: please install: ${need_apt[*]} (sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
  echo "setup: installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is needed (https://learn.microsoft.com/dotnet/core/install/linux-debian)" >&2
  exit 1
fi

# TorchSharp's native library is patched for older libstdc++ during the build (see README, 'TorchSharp on Debian 12').
dotnet restore DataflowContrastive.sln --verbosity quiet
