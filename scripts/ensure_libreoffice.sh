#!/usr/bin/env bash
# Make sure LibreOffice (headless Writer) is there for the document tests, which convert every
# generated .docx to PDF to be sure it opens. Installs Debian's libreoffice-writer-nogui with apt-get
# when running as root; otherwise says what to do. Setting YQ_SKIP_PDF_TESTS=1 leaves that test out
# instead (it is never skipped silently: pytest reports the reason).
set -euo pipefail
if [ "${YQ_SKIP_PDF_TESTS:-0}" = "1" ]; then
  echo "PDF conversion tests left out (YQ_SKIP_PDF_TESTS=1)"
  exit 0
fi
if command -v soffice >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's libreoffice-writer-nogui for the document tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends libreoffice-writer-nogui fonts-noto-cjk >/dev/null 2>&1 || {
    apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends \
      libreoffice-writer-nogui fonts-noto-cjk >/dev/null
  }
  command -v soffice >/dev/null && exit 0
fi
echo "LibreOffice is needed for the document tests: run" >&2
echo "'sudo apt-get install -y --no-install-recommends libreoffice-writer-nogui fonts-noto-cjk'," >&2
echo "or set YQ_SKIP_PDF_TESTS=1 to leave them out." >&2
exit 1
