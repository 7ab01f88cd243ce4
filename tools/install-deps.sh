#!/usr/bin/env bash
# Installs the Debian 12 packages mmdnn needs to build and test, and only those
# that are missing: `apt-get update` runs at most once, and nothing at all
# happens (and nothing is printed) when everything is already there.
#
#   tools/install-deps.sh            build + test dependencies
#   tools/install-deps.sh --torch    also PyTorch/NumPy (golden files, benchmarks)
set -euo pipefail

pkgs=(
  meson ninja-build pkg-config gettext
  libglib2.0-dev libjson-glib-dev
  libopenblas-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev
  libcairo2-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  # make demo and pipelines/: textoverlay (Pango), the Python GI app example
  gstreamer1.0-x python3-gst-1.0
  # pipelines/split-hosts.sh: gdppay/gdpdepay (the features over TCP)
  gstreamer1.0-plugins-bad
  # tools/make-dataset (AVT-Fashion): images, TTS voices, encoding/muxing
  python3-numpy dataset-fashion-mnist ffmpeg
  flite festival festvox-itapc16k festvox-italp16k festvox-czech-dita espeak-ng
  # meson feature 'mpi': `mpirun -np N mmdnn train`, the mpi test suite
  openmpi-bin libopenmpi-dev
  # make fuzz: clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # make check-valgrind: memcheck over the element and pipeline suites
  valgrind
)
for arg in "$@"; do
  case "$arg" in
    --torch) pkgs+=(python3-torch python3-numpy) ;;
    *) echo "install-deps.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: missing packages: ${missing[*]}" >&2
  echo "install-deps.sh: run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
