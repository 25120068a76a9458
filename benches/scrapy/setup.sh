#!/usr/bin/env bash
# Installs Scrapy from PyPI into benches/out/scrapy-venv for the crawl benchmark.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../out/scrapy-venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet -r "$here/requirements.txt"
"$venv/bin/python" -c 'import scrapy; print("scrapy", scrapy.__version__)'
