# run.sh TARGET CORPUS SECONDS: fuzz TARGET for SECONDS from the committed
# CORPUS. New inputs go to a scratch folder (libFuzzer writes to its first
# corpus folder), so the repository is never modified by a run. A crash
# fails the test; its input is kept in FUZZ_CRASHES (default: the folder
# meson runs the test in, i.e. the build folder) as TARGET-crash-HASH, and
# the log says how to make it a regression input: copy it into CORPUS and
# commit it, so every later run replays it first.
set -euo pipefail
target=$1 corpus=$2 seconds=$3
keep=${FUZZ_CRASHES:-$PWD/fuzz-crashes}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/emberd-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
[ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || { echo "no seed corpus in $corpus" >&2; exit 1; }
mkdir -p "$scratch/out" "$scratch/art"
cd "$scratch"
rc=0
# -error_exitcode=1: libFuzzer's default, 77, reads as "skipped" to meson.
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
	-print_final_stats=1 -artifact_prefix="$scratch/art/" "$scratch/out" "$corpus" \
	>"$scratch/log" 2>&1 || rc=$?
tail -n 20 "$scratch/log"
if [ -n "$(ls -A "$scratch/art")" ]; then
	mkdir -p "$keep"
	name=$(basename "$target")
	for f in "$scratch/art"/*; do
		cp "$f" "$keep/$name-$(basename "$f")"
		echo "kept $keep/$name-$(basename "$f"); make it a regression input:"
		echo "  cp '$keep/$name-$(basename "$f")' '$corpus/' && git add '$corpus'"
	done
fi
exit "$rc"
