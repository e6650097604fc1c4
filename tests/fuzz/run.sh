# run.sh TARGET CORPUS SECONDS: fuzz TARGET for SECONDS from the committed
# CORPUS. New inputs go to a scratch folder (libFuzzer writes to its first
# corpus folder), so the repository is never modified by a run. A crash
# fails the test and leaves the input in the log's working folder.
set -euo pipefail
target=$1 corpus=$2 seconds=$3
scratch=$(mktemp -d "${TMPDIR:-/tmp}/emberd-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
[ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || { echo "no seed corpus in $corpus" >&2; exit 1; }
cd "$scratch"
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 "$scratch" "$corpus" 2>&1 | tail -n 20
exit "${PIPESTATUS[0]}"
