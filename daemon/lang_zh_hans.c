/* The index page in Simplified Chinese (mainland China, Singapore). */
#include "index_strings.h"

const struct index_strings lang_zh_hans = {
	.tag = "zh-Hans",
	.name = "简体中文",
	.rtl = 0,
	.archive = "存档",
	.items = { "共 ", " 项", "共 ", " 项" },
	.catalog_no = " &middot; 目录第 ",
	.catalog_post = " 版",
	.updated = " &middot; 更新于 ",
	.nav_verify = "如何验证",
	.nav_mirrors = "其他镜像",
	.languages = "语言",
	.files_h = "文件",
	.no_items = "暂无内容。",
	.search_label = "按名称或标题搜索",
	.search_button = "搜索",
	.no_match = "没有符合搜索条件的文件。",
	.show_all = "显示全部文件",
	.prev = "上一页",
	.next = "下一页",
	.page_pre = "第 ",
	.page_mid = " 页，共 ",
	.page_post = " 页",
	.unknown_type = "未知类型",
	.size_unknown = "大小未知",
	.bytes_pre = "（",
	.bytes_post = " 字节）",
	.unit = { "B", "KiB", "MiB", "GiB" },
	.decimal = ".",
	.published = " &middot; 发布于 ",
	.download = "下载",
	.metalink = "Metalink (.meta4)",
	.torrent = "种子",
	.by_hash = "按哈希值",
	.from = "原始来源：",
	.from_saved = "，保存于 ",
	.saved = "保存于 ",
	.prov_from = "抓取自 ",
	.prov_at = "，时间 ",
	.prov_cert = "，证书 SHA-256 ",
	.prov_via_proxy = "经代理",
	.prov_record = "来源记录",
	.derived_page = "在本镜像播放其中媒体的网页副本，原网页：",
	.derived_mp4 = "可在所有浏览器中播放的 MP4，转换自 ",
	.derived_other = "转换自 ",
	.feed_files = { "来自此订阅源的文件：", " 个", "来自此订阅源的文件：",
	    " 个" },
	.page_files = { "在此网页上找到的文件：", " 个", "在此网页上找到的文件：",
	    " 个" },
	.mirrors_h = "其他镜像",
	.mirrors_p = "以下地址也提供相同的文件和相同的签名。如果本站无法访问，"
	    "请换一个试试；无论文件来自哪里，都可以用同样的方法验证。",
	.this_mirror = "（本镜像）",
	.verify_h = "验证下载的文件",
	.verify_intro = "任何人都可以架设镜像，所以不要仅凭本页就相信其内容。"
	    "文件列表 <a href=\"catalog.json\">catalog.json</a> 由发布者签名"
	    "（<a href=\"catalog.json.minisig\">catalog.json.minisig</a>），"
	    "其中记录了每个文件的 SHA-256 值。只要签名有效，且文件的 SHA-256 "
	    "与已签名目录中的一致，您拿到的就正是发布者所发布的内容，"
	    "无论它来自哪个镜像。",
	.key_intro = "发布者的公钥（也可下载 <a href=\"pubkey\">pubkey</a>）：",
	.key_unknown = "（本镜像不知道公钥）",
	.key_warn = "恶意镜像可能在这里显示它自己的公钥。如有可能，"
	    "请与您从发布者或其他镜像获得的公钥比对，两者必须完全相同。",
	.step_catalog = "1. 下载目录及其签名：",
	.step_catalog_alt = "也可以用 wget 或 aria2c：",
	.pin_note = "本镜像的证书是自签名的，因此这些命令不让工具按常规的证书"
	    "颁发机构来检查它：curl 改为检查服务器持有的正是本镜像的密钥"
	    "（<code>--pinnedpubkey</code>；curl 还需要 <code>-k</code>，"
	    "否则它会在比对密钥之前就拒绝证书），而 wget 和 aria2c "
	    "根本无法固定密钥。这样做是安全的，因为下载的任何内容都不会被直接"
	    "信任：目录是否出自发布者，由下面的签名检查决定；文件是否正确，"
	    "由目录中的 SHA-256 决定。",
	.step_check = "2. 用 <a href=\"#minisign\">minisign</a> 检查签名：",
	.step_check_ok = "输出必须是 <code>Signature and comment signature "
	    "verified</code>。否则说明目录在签名之后被改动过：请不要使用。",
	.step_file = "3. 下载文件，例如列表中的第一个，以下任一命令均可：",
	.step_hash = "4. 计算每个已下载文件的 SHA-256，并在 catalog.json "
	    "中该文件名旁找到相同的值。",
	.for_example = "例如：",
	.must_print = "必须输出",
	.hash_after = "该值必须与已签名目录中列出的 SHA-256 完全一致；"
	    "如果不一致，请删除该文件，改从其他镜像下载。在 macOS 上请用 "
	    "<code>shasum -a 256 FILE</code>；在 Windows 上请用 "
	    "<code>certutil -hashfile FILE SHA256</code>。",
	.minisign_note = "minisign 是一个小巧的签名工具，各大系统都有软件包："
	    "<code>apt install minisign</code>、<code>brew install "
	    "minisign</code> 或 <code>scoop install minisign</code>。",
};
