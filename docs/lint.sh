#!/bin/sh
# docs/lint.sh EMBERD SRCDIR: the manual pages render without warnings and
# cannot silently fall behind the code.
#
# - mandoc -Tlint -W warning finds nothing in emberd.8 and emberd.conf.5;
# - every section and key the parser accepts (daemon/config_keys.c) has its
#   ".It Ic KEY" in that section of emberd.conf.5, and the page documents
#   no key the parser refuses;
# - every command of `emberd --help` is in the SYNOPSIS and COMMANDS of
#   emberd.8, with every long option its `COMMAND --help` names;
# - config/emberd.conf.example parses (its paths moved to a temp folder).
#
# Prints what is wrong and exits 1; exits 77 (skip) without mandoc.
set -u

emberd=$1
src=$2
man8=$src/docs/emberd.8
man5=$src/docs/emberd.conf.5
fail=0

bad() {
	echo "docs/lint.sh: $*" >&2
	fail=1
}

if ! command -v mandoc >/dev/null 2>&1; then
	echo "docs/lint.sh: mandoc is not installed (apt-get install mandoc)" >&2
	exit 77
fi

# 1. mandoc's own checks, warning level and above.
for page in "$man8" "$man5"; do
	out=$(mandoc -Tlint -W warning "$page" 2>&1)
	rc=$?
	if [ -n "$out" ] || [ "$rc" -ne 0 ]; then
		bad "mandoc -Tlint -W warning $page (exit $rc):"
		printf '%s\n' "$out" >&2
	fi
done

# 2. Config keys: "section key" pairs from config_keys.c's key table ...
code_keys=$(sed -n 's/^[[:space:]]*{ CONFIG_S_\([A-Z]*\), "\([a-z_0-9]*\)".*/\1 \2/p' \
	"$src/daemon/config_keys.c" | tr 'A-Z' 'a-z' | sort -u)
# ... and from the page: ".Ss "[section ...]"" opens a section, then
# ".It Ic key" lines, up to the next .Sh.
page_keys=$(awk '
	/^\.Sh / { sec = "" }
	/^\.Ss "\[/ { sec = $2; gsub(/["\[\]]/, "", sec); next }
	sec != "" && /^\.It Ic / { print sec, $3 }
' "$man5" | sort -u)
if [ -z "$code_keys" ]; then
	bad "no keys found in daemon/config_keys.c: has its key table changed shape?"
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "$code_keys" >"$tmp/code_keys"
printf '%s\n' "$page_keys" >"$tmp/page_keys"
missing=$(grep -vxF -f "$tmp/page_keys" "$tmp/code_keys")
extra=$(grep -vxF -f "$tmp/code_keys" "$tmp/page_keys")
[ -z "$missing" ] || bad "keys accepted by daemon/config_keys.c but not in emberd.conf.5 ([section] key):
$missing"
[ -z "$extra" ] || bad "keys in emberd.conf.5 that daemon/config_keys.c does not accept:
$extra"
for sec in $(sed -n '/config_section_names\[CONFIG_S_MAX\]/,/};/p' "$src/daemon/config_keys.c" |
	grep -o '"[a-z]*"' | tr -d '"'); do
	grep -q "^\.Ss \"\[$sec[] ]" "$man5" || bad "section [$sec] has no .Ss in emberd.conf.5"
done

# 3. Commands and their long options.
help=$("$emberd" --help) || bad "$emberd --help failed"
cmds=$(printf '%s\n' "$help" | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p')
[ -n "$cmds" ] || bad "no commands found in emberd --help"
synopsis=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$man8")
# The commands COMMANDS has an entry for: ".It Cm NAME ..." or
# ".It Xo" followed by ".Cm NAME".
entries=$(sed -n '/^\.Sh COMMANDS/,/^\.Sh /p' "$man8" | awk '
	xo && /^\.Cm / { print $2 }
	/^\.It Cm / { print $3 }
	{ xo = /^\.It Xo/ }
')
for c in $cmds; do
	printf '%s\n' "$synopsis" | grep -qx "\.Cm $c" ||
		bad "command '$c' is not in the SYNOPSIS of emberd.8"
	printf '%s\n' "$entries" | grep -qx "$c" ||
		bad "command '$c' has no entry in COMMANDS of emberd.8"
	opts=$("$emberd" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	# ".Fl \-name" is how mdoc writes --name.
	for o in $opts; do
		grep -q -- "Fl \\\\${o#-}\\( \\|$\\)" "$man8" ||
			bad "option $o of '$c' is not in emberd.8"
	done
done
for o in --help --version; do
	grep -q -- "\\\\${o#-}" "$man8" || bad "$o is not in emberd.8"
done

# 4. The installed example config parses.
sed -e "s#/var/lib/emberd#$tmp#g" -e '/^user *=/d' \
	-e '/^\[mirror\]/a allow_root = yes' \
	"$src/config/emberd.conf.example" >"$tmp/emberd.conf"
if ! out=$("$emberd" ls -c "$tmp/emberd.conf" 2>&1); then
	bad "config/emberd.conf.example does not load:"
	printf '%s\n' "$out" >&2
fi

[ "$fail" -eq 0 ] && echo "docs/lint.sh: manual pages clean and complete"
exit "$fail"
