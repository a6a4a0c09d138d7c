#!/usr/bin/env bash
# Debian packages the tests use: Chromium + driver (browser tests), FluidSynth + soundfonts (rendering
# performances), sox and espeak-ng (test audio). Installs what is missing when run as root with apt;
# otherwise says what is missing and the tests that need it skip with that reason.
set -uo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
command -v fluidsynth >/dev/null 2>&1 || need+=(fluidsynth)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || need+=(fluid-soundfont-gm)
[ -f /usr/share/sounds/sf2/TimGM6mb.sf2 ] || need+=(timgm6mb-soundfont)
command -v sox >/dev/null 2>&1 || need+=(sox)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages: ${need[*]}"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null \
    || echo "warning: could not install ${need[*]}; the tests that need them will skip." >&2
else
  echo "note: missing Debian packages (${need[*]}); install them with apt-get, or the tests that need them skip." >&2
fi
exit 0
