/* The index page in Traditional Chinese (Taiwan, Hong Kong, Macau). */
#include "index_strings.h"

const struct index_strings lang_zh_hant = {
	.tag = "zh-Hant",
	.name = "繁體中文",
	.rtl = 0,
	.archive = "典藏",
	.items = { "共 ", " 項", "共 ", " 項" },
	.catalog_no = " &middot; 目錄第 ",
	.catalog_post = " 版",
	.updated = " &middot; 更新於 ",
	.nav_verify = "如何驗證",
	.nav_mirrors = "其他鏡像站",
	.languages = "語言",
	.files_h = "檔案",
	.no_items = "目前尚無內容。",
	.search_label = "依名稱或標題搜尋",
	.search_button = "搜尋",
	.no_match = "沒有符合搜尋條件的檔案。",
	.show_all = "顯示所有檔案",
	.prev = "上一頁",
	.next = "下一頁",
	.page_pre = "第 ",
	.page_mid = " 頁，共 ",
	.page_post = " 頁",
	.unknown_type = "未知類型",
	.size_unknown = "大小不明",
	.bytes_pre = "（",
	.bytes_post = " 位元組）",
	.unit = { "B", "KiB", "MiB", "GiB" },
	.decimal = ".",
	.published = " &middot; 發布於 ",
	.download = "下載",
	.metalink = "Metalink (.meta4)",
	.torrent = "種子",
	.by_hash = "依雜湊值",
	.from = "原始來源：",
	.from_saved = "，儲存於 ",
	.saved = "儲存於 ",
	.prov_from = "擷取自 ",
	.prov_at = "，時間 ",
	.prov_cert = "，憑證 SHA-256 ",
	.prov_via_proxy = "經代理",
	.prov_record = "來源紀錄",
	.derived_page = "在本鏡像站播放其中媒體的網頁副本，原網頁：",
	.derived_mp4 = "可在所有瀏覽器播放的 MP4，轉換自 ",
	.derived_other = "轉換自 ",
	.feed_files = { "來自此訂閱來源的檔案：", " 個", "來自此訂閱來源的檔案：",
	    " 個" },
	.page_files = { "在此網頁上找到的檔案：", " 個", "在此網頁上找到的檔案：",
	    " 個" },
	.mirrors_h = "其他鏡像站",
	.mirrors_p = "以下網址也提供相同的檔案與相同的簽章。如果本站無法連線，"
	    "請改用其他網址；無論檔案從哪裡取得，都能用同樣的方式驗證。",
	.this_mirror = "（本鏡像站）",
	.verify_h = "驗證下載的檔案",
	.verify_intro = "任何人都能架設鏡像站，所以請勿只憑本頁就相信其內容。"
	    "檔案清單 <a href=\"catalog.json\">catalog.json</a> 由發布者簽章"
	    "（<a href=\"catalog.json.minisig\">catalog.json.minisig</a>），"
	    "並記錄了每個檔案的 SHA-256 值。只要簽章有效，且檔案的 SHA-256 "
	    "與已簽章目錄中的相符，您拿到的就正是發布者所發布的內容，"
	    "無論來自哪個鏡像站。",
	.key_intro = "發布者的公開金鑰（亦可下載 <a href=\"pubkey\">pubkey</a>）：",
	.key_unknown = "（本鏡像站不知道公開金鑰）",
	.key_warn = "惡意鏡像站可能在此顯示它自己的金鑰。如果可以，"
	    "請與您從發布者或其他鏡像站取得的金鑰比對，兩者必須完全相同。",
	.step_catalog = "1. 下載目錄及其簽章：",
	.step_catalog_alt = "也可以使用 wget 或 aria2c：",
	.pin_note = "本鏡像站的憑證是自行簽署的，因此這些指令不讓工具依一般的"
	    "憑證機構檢查它：curl 改為檢查伺服器持有的正是本鏡像站的金鑰"
	    "（<code>--pinnedpubkey</code>；curl 還需要 <code>-k</code>，"
	    "否則它會在比對金鑰之前就拒絕憑證），而 wget 與 aria2c "
	    "則完全無法固定金鑰。這樣做是安全的，因為下載的任何內容都不會被直接"
	    "信任：目錄是否出自發布者，由下方的簽章檢查決定；檔案是否正確，"
	    "由目錄中的 SHA-256 決定。",
	.step_check = "2. 使用 <a href=\"#minisign\">minisign</a> 檢查簽章：",
	.step_check_ok = "輸出必須是 <code>Signature and comment signature "
	    "verified</code>。若非如此，表示目錄在簽章後遭到修改：請勿使用。",
	.step_file = "3. 下載檔案，例如清單中的第一個，以下任一指令皆可：",
	.step_hash = "4. 計算每個已下載檔案的 SHA-256，並在 catalog.json "
	    "中該檔名旁找到相同的值。",
	.for_example = "例如：",
	.must_print = "必須輸出",
	.hash_after = "該值必須與已簽章目錄中列出的 SHA-256 完全相符；"
	    "若不相符，請刪除該檔案，改從其他鏡像站下載。在 macOS 上請使用 "
	    "<code>shasum -a 256 FILE</code>；在 Windows 上請使用 "
	    "<code>certutil -hashfile FILE SHA256</code>。",
	.minisign_note = "minisign 是一套小巧的簽章工具，各大系統皆有套件："
	    "<code>apt install minisign</code>、<code>brew install "
	    "minisign</code> 或 <code>scoop install minisign</code>。",
};
