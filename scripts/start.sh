#!/bin/sh
# `npm start`: build, then serve zones/ with the defaults. On first start zones/ is made as a copy of demo/zones/:
# that copy is yours (git ignores it), so admin API changes and your edits never touch tracked files.
# Arguments go to `tandem serve` (`npm start -- --log-level debug`).
set -e
cd "$(dirname "$0")/.."
npm run --silent build
if [ ! -e zones ]; then
  cp -R demo/zones zones
  echo "npm start: copied demo/zones/ to zones/ (your copy: edit it freely, git ignores it)" >&2
fi
exec node dist/cli/main.js serve "$@"
