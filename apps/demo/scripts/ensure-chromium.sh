#!/usr/bin/env bash
# Installs Debian's Chromium for the browser test (pnpm test:browser) when it is not there yet.
# Playwright's own browser download cannot work on these machines (no internet but the package
# registries), so playwright-core drives /usr/bin/chromium from the distribution instead.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  /usr/bin/chromium --version
  exit 0
fi

SUDO=''
[ "$(id -u)" = 0 ] || SUDO='sudo'
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-color-emoji >/dev/null
/usr/bin/chromium --version
