/* The index page in Persian, right to left. Commands, keys and hashes
 * keep their own direction (the page marks them dir="ltr"). */
#include "index_strings.h"

const struct index_strings lang_fa = {
	.tag = "fa",
	.name = "فارسی",
	.rtl = 1,
	.archive = "بایگانی",
	.items = { "", " مورد", "", " مورد" },
	.catalog_no = " &middot; فهرست شمارهٔ ",
	.catalog_post = "",
	.updated = " &middot; به‌روزرسانی: ",
	.nav_verify = "روش بررسی",
	.nav_mirrors = "آینه‌های دیگر",
	.languages = "زبان",
	.files_h = "فایل‌ها",
	.no_items = "هنوز چیزی اینجا نیست.",
	.search_label = "جست‌وجو در نام یا عنوان",
	.search_button = "جست‌وجو",
	.no_match = "هیچ فایلی با این جست‌وجو پیدا نشد.",
	.show_all = "نمایش همهٔ فایل‌ها",
	.prev = "صفحهٔ قبل",
	.next = "صفحهٔ بعد",
	.page_pre = "صفحهٔ ",
	.page_mid = " از ",
	.page_post = "",
	.unknown_type = "نوع نامشخص",
	.size_unknown = "اندازه نامشخص",
	.bytes_pre = " (",
	.bytes_post = " بایت)",
	.unit = { "بایت", "KiB", "MiB", "GiB" },
	.decimal = ".",
	.published = " &middot; تاریخ انتشار: ",
	.download = "دانلود",
	.metalink = "Metalink (.meta4)",
	.torrent = "تورنت",
	.by_hash = "با هش",
	.from = "منبع اصلی: ",
	.from_saved = "، ذخیره‌شده در ",
	.saved = "ذخیره‌شده در ",
	.prov_from = "دریافت‌شده از ",
	.prov_at = " در ",
	.prov_cert = "، SHA-256 گواهی ",
	.prov_via_proxy = "از راه پراکسی",
	.prov_record = "سابقهٔ دریافت",
	.derived_page = "همان صفحه که رسانه‌هایش را از این آینه پخش می‌کند؛ "
	    "نسخه‌ای از ",
	.derived_mp4 = "فایل MP4 که در همهٔ مرورگرها پخش می‌شود، ساخته‌شده از ",
	.derived_other = "ساخته‌شده از ",
	.feed_files = { "", " فایل از این خوراک", "", " فایل از این خوراک" },
	.page_files = { "", " فایل پیداشده در این صفحه", "",
	    " فایل پیداشده در این صفحه" },
	.mirrors_h = "آینه‌های دیگر",
	.mirrors_p = "همین فایل‌ها با همین امضا از این نشانی‌ها هم در "
	    "دسترس‌اند. اگر این آینه در دسترس نبود، یکی دیگر را امتحان کنید؛ "
	    "هر فایل را، از هر جا که آمده باشد، می‌توان به همین روش بررسی کرد.",
	.this_mirror = "(همین آینه)",
	.verify_h = "آنچه دانلود می‌کنید را بررسی کنید",
	.verify_intro = "هر کسی می‌تواند آینه راه بیندازد، پس تنها به این "
	    "صفحه اعتماد نکنید. فهرست فایل‌ها، <a href=\"catalog.json\">"
	    "catalog.json</a>، را ناشر امضا کرده است (<a href=\""
	    "catalog.json.minisig\">catalog.json.minisig</a>) و SHA-256 "
	    "همهٔ فایل‌ها در آن ثبت شده است. اگر امضا معتبر باشد و SHA-256 "
	    "فایل با مقدار ثبت‌شده در فهرست امضاشده یکی باشد، دقیقاً همان "
	    "چیزی را دارید که ناشر منتشر کرده است، از هر آینه‌ای که آمده باشد.",
	.key_intro = "کلید عمومی ناشر (همچنین در فایل <a href=\"pubkey\">"
	    "pubkey</a>):",
	.key_unknown = "(این آینه آن را نمی‌شناسد)",
	.key_warn = "یک آینهٔ بدخواه ممکن است اینجا کلید خودش را نشان دهد. "
	    "اگر می‌توانید، آن را با کلیدی که از ناشر یا از آینهٔ دیگری "
	    "گرفته‌اید مقایسه کنید؛ باید کاملاً یکسان باشند.",
	.step_catalog = "۱. فهرست و امضای آن را دانلود کنید:",
	.step_catalog_alt = "یا همین کار با wget یا aria2c:",
	.pin_note = "گواهی این آینه خودامضا است، برای همین این دستورها آن را "
	    "با مراجع صدور معمول بررسی نمی‌کنند: curl به‌جای آن بررسی "
	    "می‌کند که سرور دقیقاً کلید همین آینه را دارد "
	    "(<code>--pinnedpubkey</code>؛ curl به <code>-k</code> هم نیاز "
	    "دارد، وگرنه پیش از مقایسهٔ کلیدها گواهی را رد می‌کند)، و wget "
	    "و aria2c اصلاً نمی‌توانند کلید را پین کنند. این کار امن است، "
	    "چون به هیچ چیزِ دانلودشده بی‌بررسی اعتماد نمی‌شود: اینکه فهرست "
	    "از ناشر است را بررسی امضا در مرحلهٔ بعد تعیین می‌کند، و درستی "
	    "هر فایل را SHA-256 ثبت‌شده در فهرست.",
	.step_check = "۲. امضا را با <a href=\"#minisign\">minisign</a> "
	    "بررسی کنید:",
	.step_check_ok = "خروجی باید <code>Signature and comment signature "
	    "verified</code> باشد. هر خروجی دیگری یعنی فهرست پس از امضا "
	    "تغییر کرده است: از آن استفاده نکنید.",
	.step_file = "۳. یک فایل را دانلود کنید، مثلاً نخستین فایل فهرست، با "
	    "یکی از این دستورها:",
	.step_hash = "۴. SHA-256 هر فایلی را که دانلود کرده‌اید حساب کنید و "
	    "همان مقدار را کنار نامش در catalog.json پیدا کنید.",
	.for_example = " برای نمونه:",
	.must_print = "باید این را چاپ کند:",
	.hash_after = "مقدار باید دقیقاً با SHA-256 ثبت‌شده در فهرست امضاشده "
	    "یکی باشد؛ اگر نیست، فایل را پاک کنید و آن را از آینهٔ دیگری "
	    "بگیرید. در macOS از <code>shasum -a 256 FILE</code> و در ویندوز "
	    "از <code>certutil -hashfile FILE SHA256</code> استفاده کنید.",
	.minisign_note = "minisign ابزار کوچکی برای امضا است که در بیشتر "
	    "مخزن‌ها بسته دارد: <code>apt install minisign</code>، "
	    "<code>brew install minisign</code> یا <code>scoop install "
	    "minisign</code>.",
};
