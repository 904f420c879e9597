#!/bin/sh
# Checks what the course needs from the system before .venv/ is made:
#   - Python 3.11 with venv (PYTHON, default python3.11);
#   - FluidSynth's library and a General MIDI soundfont (FluidR3_GM);
#   - for live mode: PortAudio's library (libportaudio2) and, for its test without a
#     sound card, the JACK server (jackd2);
#   - for the real-browser tests of the widgets and of `make demo`: Chromium (Debian's chromium).
# As root on Debian/Ubuntu it installs what is missing itself; elsewhere it stops
# with the exact command to run when FluidSynth is missing, and only notes what live
# mode lacks. SKIP_SYSTEM_PACKAGES=1 skips the system packages.
set -u
PYTHON="${PYTHON:-python3.11}"
SOUNDFONT=/usr/share/sounds/sf2/FluidR3_GM.sf2

fail() { printf '\n*** %s\n\n' "$*" >&2; exit 1; }

# Python 3.11 -------------------------------------------------------------
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  fail "The course needs Python 3.11 and '$PYTHON' was not found.
    Debian/Ubuntu:  sudo apt-get install python3.11 python3.11-venv
    pyenv:          pyenv install 3.11 && pyenv local 3.11
    or point the Makefile at one:  make test PYTHON=/path/to/python3.11
    (TensorFlow 2.21, which ddsp runs on here, is built for 3.9-3.13; the pins are made on 3.11.)"
fi
version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
if [ "$version" != "3.11" ]; then
  fail "'$PYTHON' is Python $version; the course's pinned packages are for Python 3.11.
    Install 3.11 (Debian/Ubuntu: sudo apt-get install python3.11 python3.11-venv) and run:
    make test PYTHON=python3.11"
fi
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  fail "Python 3.11 is there but cannot make virtual environments.
    Debian/Ubuntu:  sudo apt-get install python3.11-venv"
fi

# FluidSynth and the soundfont -----------------------------------------------
[ "${SKIP_SYSTEM_PACKAGES:-0}" = "1" ] && { echo "Skipping the FluidSynth check (SKIP_SYSTEM_PACKAGES=1)."; exit 0; }

have_libfluidsynth() {
  { command -v ldconfig >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libfluidsynth\.so'; } ||
  ls /usr/lib/*/libfluidsynth.so.* /usr/lib/libfluidsynth.so.* /usr/local/lib/libfluidsynth.* \
     /opt/homebrew/lib/libfluidsynth.* 2>/dev/null | grep -q .
}

have_lib() {
  { command -v ldconfig >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q "$1"; } ||
  ls /usr/lib/*/$1* /usr/lib/$1* /usr/local/lib/$1* /opt/homebrew/lib/$1* 2>/dev/null | grep -q .
}

missing=""
have_libfluidsynth || missing="fluidsynth"
[ -f "$SOUNDFONT" ] || missing="$missing fluid-soundfont-gm"
live_missing=""
have_lib libportaudio || live_missing="libportaudio2"
command -v jackd >/dev/null 2>&1 || live_missing="$live_missing jackd2"
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || live_missing="$live_missing chromium"
missing=$(echo $missing)
live_missing=$(echo $live_missing)
[ -z "$missing" ] && [ -z "$live_missing" ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: $missing $live_missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing $live_missing >/dev/null ||
    fail "apt-get could not install: $missing $live_missing. Run it yourself: apt-get update && apt-get install -y $missing $live_missing"
  exit 0
fi

if [ -n "$live_missing" ]; then
  echo "Note: live mode (python -m ttlib live) needs PortAudio's library, its test without a sound card a"
  echo "      JACK server, and the real-browser tests Chromium; missing: $live_missing"
  echo "      (Debian/Ubuntu: sudo apt-get install $live_missing; macOS: brew install portaudio jack chromium)."
  echo "      Everything else works without them; the tests that need them are skipped, saying so."
fi
[ -z "$missing" ] && exit 0


if ! have_libfluidsynth; then
  if command -v apt-get >/dev/null 2>&1; then
    fail "FluidSynth's library is missing (it renders the built-in trumpet and whistle). Run:
    sudo apt-get install fluidsynth fluid-soundfont-gm
    then make again. (To go on without rendering: make ... SKIP_SYSTEM_PACKAGES=1)"
  elif command -v brew >/dev/null 2>&1; then
    fail "FluidSynth's library is missing (it renders the built-in trumpet and whistle). Run:
    brew install fluid-synth
    then make again."
  else
    fail "FluidSynth's library (libfluidsynth) is missing. Install your system's fluidsynth package,
    then make again. (To go on without rendering: make ... SKIP_SYSTEM_PACKAGES=1)"
  fi
fi
# The library is there but not FluidR3_GM: rendering falls back to pretty_midi's small soundfont.
echo "Note: no FluidR3 GM soundfont at $SOUNDFONT; rendering will use pretty_midi's small TimGM6mb.sf2."
echo "      For the better soundfont: sudo apt-get install fluid-soundfont-gm"
exit 0
