"""Build import fixtures in the test: district news pages, Word files, Chinese PDF pages."""

from html import escape
from pathlib import Path

import docx
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

CANTEEN_TITLE = "社区食堂开到家门口 老人吃饭不再难"
CANTEEN = [
    ("", "本报讯 7月7日，南关街道橡树玫瑰社区的老年食堂正式开门营业。食堂设在社区党群服务"
         "中心一楼，每天中午十一点到十二点半供应午餐，六十岁以上的老人凭老年卡就餐可以享受八折优惠。"),
    ("一荤两素只要十元", "食堂每天提供一荤两素的套餐，价格十元，八十岁以上的老人再减两元。"
                        "行动不便的独居老人可以提前一天打电话预约，由社区志愿者送餐上门。"),
    ("志愿者轮流帮厨", "食堂的帮厨和送餐由社区志愿者轮流承担，目前已有四十多名居民报名。"
                      "社区还将每月公布食堂的收支情况，接受居民监督。"),
]
CANONICAL = "https://www.guancheng.gov.cn/news/2021/0708/12345.html"
# Two articles on one e-paper page; 开门营 / 业 is a word cut by a line break.
EPAPER = [
    "社区食堂开到家门口",
    "本报讯 7月7日，南关街道橡树玫瑰社区的老年食堂正式开门营",
    "业。食堂每天中午供应午餐，六十岁以上的老人就餐享受八折优惠。",
    "记者 王小明",
    "义诊进社区",
    "本报讯 7月9日，社区卫生服务中心的医生来到橡树玫瑰社区，为居民免费测量",
    "血压、血糖，还讲解了夏季防暑知识。",
    "记者 李红 通讯员 张强",
]


def district_page(title: str = CANTEEN_TITLE, sections: list[tuple[str, str]] = CANTEEN,
                  date: str | None = "2021-07-08", author: str = "记者 王小明",
                  canonical: str | None = CANONICAL) -> str:
    """A news page as a district website serves it: header, navigation, article, footer."""
    meta = f'<meta name="PubDate" content="{date} 09:30">' if date else ""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = "".join((f"<h2>{escape(h)}</h2>" if h else "") + f"<p>{escape(p)}</p>"
                   for h, p in sections)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{escape(title)}_管城回族区人民政府</title>{meta}
<meta name="author" content="{escape(author)}">
<meta property="og:site_name" content="管城回族区人民政府">{link}
</head><body>
<div class="header"><div class="logo">管城回族区人民政府</div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>
<li><a href="/bsfw/">办事服务</a></li><li><a href="/hdjl/">互动交流</a></li></ul></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/news/">区县动态</a></div>
<div class="article"><h1>{escape(title)}</h1>
<div class="info">发布时间：{date or ""} 来源：管城回族区人民政府 作者：{escape(author)}</div>
<div class="content">{body}</div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div></div>
<div class="related"><h3>相关新闻</h3><ul>
<li><a href="/news/1.html">南关街道开展义诊活动</a></li>
<li><a href="/news/2.html">城东路街道举办消夏晚会</a></li>
<li><a href="/news/3.html">管城区召开老龄工作会议</a></li></ul></div>
<div class="footer"><p>主办：管城回族区人民政府办公室 地址：郑州市管城回族区紫荆山南路
电话：0371-66666666</p><p>豫ICP备00000000号</p></div>
</body></html>"""


def list_page() -> str:
    """The district's news index: many links, a date each, no article text."""
    items = "".join(f'<li><a href="/news/{i}.html">南关街道第{i}期社区活动通知发布</a>'
                    f"<span>2021-07-{i:02d}</span></li>" for i in range(1, 25))
    return f"""<html><head><meta charset="utf-8"><title>区县动态_管城回族区人民政府</title></head>
<body><div class="header">管城回族区人民政府<ul class="nav"><li><a href="/">首页</a></li>
<li><a href="/zwgk/">政务公开</a></li></ul></div>
<div class="list"><h2>区县动态</h2><ul>{items}</ul><div class="pages"><a href="?p=2">下一页</a>
</div></div><div class="footer">主办：管城回族区人民政府办公室</div></body></html>"""


def word_file(path: Path, title: str | None, sections: list[tuple[str, str]],
              core_title: str | None = None, byline: str | None = None) -> Path:
    """Write a .docx: a Title paragraph, then Heading 2 sections with their paragraphs."""
    document = docx.Document()
    if title:
        document.add_heading(title, level=0)
    if core_title:
        document.core_properties.title = core_title
    if byline:
        document.add_paragraph(byline)
    for heading, paragraph in sections:
        if heading:
            document.add_heading(heading, level=2)
        document.add_paragraph(paragraph)
    document.save(str(path))
    return path


def pdf_file(path: Path, pages: list[list[str]], password: str | None = None) -> Path:
    """Write a PDF whose pages carry these lines as text, in the built-in font STSong-Light."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    encrypt = StandardEncryption(password, canPrint=1) if password else None
    pdf = canvas.Canvas(str(path), encrypt=encrypt)
    for lines in pages:
        pdf.setFont("STSong-Light", 11)
        y = 800
        for line in lines:
            pdf.drawString(40, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return path


def scanned_pdf(path: Path) -> Path:
    """Write a PDF page that is only a picture (grey blocks where the text would be)."""
    pdf = canvas.Canvas(str(path))
    for y in range(780, 300, -20):
        pdf.setFillGray(0.4)
        pdf.rect(40, y, 500, 10, stroke=0, fill=1)
    pdf.showPage()
    pdf.save()
    return path
