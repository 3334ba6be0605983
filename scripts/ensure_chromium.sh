#!/usr/bin/env bash
# Make sure Debian's Chromium (and CJK fonts for readable screenshots) are there for the browser
# tests. Installs them with apt-get when running as root; otherwise says what to do. Setting
# YQ_SKIP_BROWSER_TESTS=1 leaves the browser tests out instead (they are never skipped silently).
set -euo pipefail
if [ "${YQ_SKIP_BROWSER_TESTS:-0}" = "1" ]; then
  echo "browser tests left out (YQ_SKIP_BROWSER_TESTS=1)"
  exit 0
fi
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium fonts-noto-cjk >/dev/null 2>&1 || {
    apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium fonts-noto-cjk >/dev/null
  }
  command -v chromium >/dev/null && exit 0
fi
echo "Chromium is needed for the browser tests: run 'sudo apt-get install -y chromium fonts-noto-cjk'," >&2
echo "or set YQ_SKIP_BROWSER_TESTS=1 to leave them out." >&2
exit 1
