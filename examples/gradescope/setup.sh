#!/usr/bin/env bash
# Gradescope runs setup.sh ONCE, when it builds the autograder's image: install symderiv here.
# (run_autograder runs for every submission and only calls symderiv.)
# The autograder zip holds this file, run_autograder, symderiv's wheel and the answer key:
#   pip wheel --no-deps -w autograder/ /path/to/symderiv && cp key.toml autograder/
set -euo pipefail
cd /autograder/source
python=""
for candidate in python3.13 python3.12 python3.11; do
  if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
done
if [ -z "$python" ]; then  # an older Ubuntu image: symderiv needs Python 3.11 or newer
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq software-properties-common
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv
  python=python3.11
fi
"$python" -m venv /opt/symderiv
/opt/symderiv/bin/pip install --quiet /autograder/source/symderiv-*.whl
/opt/symderiv/bin/symderiv verify /autograder/source/key.toml   # the key proves itself here, not per student
