/* The index page in English. */
#include "index_strings.h"

const struct index_strings lang_en = {
	.tag = "en",
	.name = "English",
	.rtl = 0,
	.archive = "Archive",
	.items = { "", " item", "", " items" },
	.catalog_no = " &middot; catalog #",
	.catalog_post = "",
	.updated = " &middot; updated ",
	.nav_verify = "How to verify",
	.nav_mirrors = "Other mirrors",
	.languages = "Language",
	.files_h = "Files",
	.no_items = "No items yet.",
	.search_label = "Search by name or title",
	.search_button = "Search",
	.no_match = "No file matches this search.",
	.show_all = "Show all files",
	.prev = "Previous page",
	.next = "Next page",
	.page_pre = "Page ",
	.page_mid = " of ",
	.page_post = "",
	.unknown_type = "unknown type",
	.size_unknown = "size unknown",
	.bytes_pre = " (",
	.bytes_post = " bytes)",
	.unit = { "B", "KiB", "MiB", "GiB" },
	.decimal = ".",
	.published = " &middot; published ",
	.download = "Download",
	.metalink = "Metalink (.meta4)",
	.torrent = "Torrent",
	.by_hash = "By hash",
	.from = "Originally from ",
	.from_saved = ", saved ",
	.saved = "Saved ",
	.prov_from = "Fetched from ",
	.prov_at = " at ",
	.prov_cert = ", certificate SHA-256 ",
	.prov_via_proxy = "via a proxy",
	.prov_record = "provenance record",
	.derived_page = "The page, playing its media from this mirror: a copy of ",
	.derived_mp4 = "MP4 that plays in every browser, made from ",
	.derived_other = "Made from ",
	.feed_files = { "", " file from this feed", "", " files from this feed" },
	.page_files = { "", " file found on this page", "",
	    " files found on this page" },
	.mirrors_h = "Other mirrors",
	.mirrors_p = "The same files, under the same signature, are also "
	    "served from these addresses. If this one becomes unreachable, "
	    "try another; everything can be checked the same way wherever "
	    "it comes from.",
	.this_mirror = "(this mirror)",
	.verify_h = "Verify what you download",
	.verify_intro = "Anyone can run a mirror, so do not trust this page "
	    "by itself. The list of files, <a href=\"catalog.json\">"
	    "catalog.json</a>, is signed by the publisher (<a href=\""
	    "catalog.json.minisig\">catalog.json.minisig</a>), and it records "
	    "the SHA-256 of every file. If the signature is valid and a "
	    "file's SHA-256 matches the one in the signed catalog, you have "
	    "exactly what the publisher published, no matter which mirror it "
	    "came from.",
	.key_intro = "The publisher's public key (also as <a href=\"pubkey\">"
	    "pubkey</a>):",
	.key_unknown = "(not known to this mirror)",
	.key_warn = "A hostile mirror could show a key of its own here. If "
	    "you can, compare it with the key you got from the publisher or "
	    "from another mirror; it must be identical.",
	.step_catalog = "1. Download the catalog and its signature:",
	.step_catalog_alt = "Or the same with wget or aria2c:",
	.pin_note = "This mirror's certificate is self-signed, so the "
	    "commands tell the tool not to check it against the usual "
	    "authorities: curl instead checks that the server holds exactly "
	    "this mirror's key (<code>--pinnedpubkey</code>; curl needs "
	    "<code>-k</code> too, or it rejects the certificate before "
	    "comparing keys), and wget and aria2c cannot pin a key at all. "
	    "That is safe because nothing you download is trusted as it is: "
	    "the signature check below decides whether the catalog is the "
	    "publisher's, and the SHA-256 in it whether a file is.",
	.step_check = "2. Check the signature with <a href=\"#minisign\">"
	    "minisign</a>:",
	.step_check_ok = "It must say <code>Signature and comment signature "
	    "verified</code>. Anything else means the catalog was changed "
	    "after it was signed: do not use it.",
	.step_file = "3. Download a file, for example the first one listed, "
	    "with any of these:",
	.step_hash = "4. Compute the SHA-256 of each file you downloaded and "
	    "find the same value next to its name in catalog.json.",
	.for_example = " For example:",
	.must_print = "must print",
	.hash_after = "The SHA-256 listed in the signed catalog must match "
	    "exactly; if it does not, delete the file and fetch it from "
	    "another mirror. On macOS use <code>shasum -a 256 FILE</code>; "
	    "on Windows <code>certutil -hashfile FILE SHA256</code>.",
	.minisign_note = "minisign is a small, widely packaged signature "
	    "tool: <code>apt install minisign</code>, <code>brew install "
	    "minisign</code>, or <code>scoop install minisign</code>.",
};
