"""The kinds of answer a question asks for (the table), and how place names are found.

Holds `KINDS` (a question's wording -> what a sentence answering it holds), the cost
words, the endings of places' names (`PLACE_NAME_ENDS`: 社区, 街道, 路...; and
`FACILITY_ENDS`: 馆, 站, 中心..., which the bot's suggested questions read), a service
place's other names (`service_place`: 养老院 as 养老服务中心) and `trie_pattern`, the one
regular expression for all local names. Imports only the standard library.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# A sentence naming a place gains this share of the weightiest word's weight (在哪)...
PLACE_BONUS = 0.5
# ...and one with a date, a frequency or a number, asked for, this share: a sentence
# without the date does not answer 什么时候, however many of the words it holds.
KIND_BONUS = 2.0


@dataclass(frozen=True)
class Kind:
    """A kind of answer: how a question asks for it and how a sentence holds one."""

    name: str
    asks: re.Pattern[str]
    answer: re.Pattern[str] | None  # None: a sentence naming a local place, or the action
    bonus: float = KIND_BONUS  # the share of the weightiest word a sentence holding it gains
    # A passage shown without it: "learned" sets the gate's kind_missing feature (a date
    # can take too many forms for a rule), "required" its detail_missing (never answered).
    lacking: str | None = None
    # Words that only say which kind is asked (电话 of 电话多少, 周几, 要钱): not what the
    # question is about, so they are neither searched for nor counted for coverage.
    wording: frozenset[str] = frozenset()


# What kind of answer a question wants, and what a sentence holding one looks like.
# Where: a sentence naming a local place (the index's harvested names).
_WHERE = re.compile(r"在哪|哪里|哪儿|哪个地方|什么地方|啥地方|地址|位置|地点|去哪")
# How often: a frequency (每周, 每季度, 两次).
_HOW_OFTEN = re.compile(r"多久.*[一1][次回趟]|多长时间.*[一1][次回趟]|几次|多少次|几回|频率"
                        r"|隔多久")
_FREQUENCY = re.compile(r"每(?:周|天|日|月|年|季度|季|星期|晚|早|个月|半年)"
                        r"|[0-9一二两三四五六七八九十]+[次回]")
# Which days: a day of the week, or every day (理发室周几开放: 每周三上午9时至11时开放).
_WHICH_DAY = re.compile(r"周几|星期几|礼拜几|哪几天")
_WEEKDAY = re.compile(r"(?:周|星期|礼拜)[一二三四五六七日天末]|每天|每日|天天|工作日|节假日"
                      r"|双休日|全天|全年")
# At what hours: a clock time (开放时间: 上午9点至下午5点; 6月28日下午 is no opening hour).
# 开放 with a time asked (几点开放, 开放到几点) is an opening-hours question too.
_WHAT_HOURS = re.compile(r"几点|开放时间|营业时间|办公时间|上班时间|开门|关门|几点钟"
                         r"|什么时间开|(?:开放|营业|办公|上班)到")
# Notices write the hour as 8:30, 9点, 9时 or 上午九时 (8时30分 too).
_HOURS = re.compile(r"[0-9]{1,2}[:：][0-9]{2}|[0-9一二两三四五六七八九十]+点|24小时"
                    r"|[0-9]{1,2}时(?!间|候)|[上下]午[一二两三四五六七八九十]{1,3}时"
                    r"|[周星期][一二三四五六日天]至")
# When: a date, an hour, a period (4月, 上午9点, 每周).
_WHEN = re.compile(r"什么时候|啥时候|啥时|何时|几时|几月|几号|几日|哪天|哪年|哪一年|哪一天"
                   r"|哪个月|几点|多久|多长时间|几天|几年|多少年|多少天|开放时间|营业时间"
                   r"|时间是")
_TIME = re.compile(r"[0-9]+\s*(?:年|月|日|号|点|时|周|天|小时|分钟)"
                   r"|[一二两三四五六七八九十]+(?:月|日|号|点|周|天|小时|个月|年)"
                   r"|每(?:周|天|日|月|年|季度|季|星期)|星期[一二三四五六日天]"
                   r"|周[一二三四五六日末]|上午|下午|晚上|早上|中午|凌晨|全天")
# Which number to call: a telephone number or a short hotline.
_WHICH_NUMBER = re.compile(r"(?:电话|热线|手机号|号码)(?:号码)?是?(?:多少|几号|是什么|是啥|啥)"
                           r"|[打拨](?:什么|哪个|啥)(?:电话|号码)|电话号码"
                           r"|(?:联系|咨询|服务|预约|报名|办事)(?:电话|热线)")
# The words that name a telephone number: they say what is asked, not about what.
NUMBER_WORDS = frozenset({"电话", "号码", "电话号码", "热线", "手机号", "联系电话", "咨询电话",
                           "服务电话", "预约电话", "热线电话"})
_PHONE = re.compile(r"[0-9]{3,4}[-－—]?[0-9]{7,8}|1[0-9]{10}|(?<![0-9])[0-9]{5,8}(?![0-9])")
# What it costs, or whether it is free: a price or 免费 (the cost words themselves, 要钱
# or 收费, then say what is asked, not what about: they are not searched for).
_HOW_MUCH = re.compile(r"要钱|收钱|花钱|多少钱|几块钱|免费吗|免费不|免不免费|要不要钱|收不收费"
                       r"|收费吗|收费不|贵不贵|价格|费用|收费标准|怎么收费|如何收费|收费多少")
_PRICE = re.compile(r"免费|不收费|不要钱|收费|价格|费用|票价"
                    r"|[0-9零一二两三四五六七八九十百千万亿.]+多?"
                    r"(?:元|块|美元|英镑|欧元|日元|港元|港币|法郎|卢布|韩元|台币|澳元|加元)")
COST_WORDS = frozenset({"要钱", "收钱", "花钱", "钱", "免费", "收费", "价格", "费用", "贵",
                         "收费标准", "几块钱", "要不要钱", "收不收费", "免不免费", "贵不贵"})
# Who: a sentence naming someone by title (区长张艳敏, 社区党委书记朱光, 79岁的徐大妈).
_WHO = re.compile(r"谁|哪位|什么人|啥人")
_PERSON = re.compile(r"(?:书记|主任|区长|主席|部长|局长|院长|校长|站长|经理|委员|记者|通讯员)"
                     r"[\u4e00-\u9fff]{2,3}|[\u4e00-\u9fff](?:大爷|大妈|女士|先生|老师)")
# Which ones: a sentence listing several (优秀共产党员、优秀党务工作者、先进基层党组织).
_WHICH_ONES = re.compile(r"哪些|哪几|有什么|有啥|都有")
_LIST = re.compile(r"[^、，,。；;]{1,25}、[^、，,。；;]{1,25}、")
# How to do something: the action after 怎么 / 如何 (志愿者怎么报名). A passage that never
# names the action (报名) does not say how to do it, however much else it shares: on the
# sample, 志愿者怎么报名 was answered 0.86 with a quote about a volunteer's visit.
# 怎么办, 怎么样 and 怎么回事 ask no action.
_HOW_TO = re.compile(r"(?:怎么|怎样|如何|咋)(?!办|样|回事)(?:才能|才可以|可以|能)?")
# The first whose question pattern matches is the kind asked for. A list gains only
# PLACE_BONUS: it is one answer form among others.
KINDS = (Kind("number", _WHICH_NUMBER, _PHONE, lacking="required", wording=NUMBER_WORDS),
          Kind("frequency", _HOW_OFTEN, _FREQUENCY, lacking="learned"),
          Kind("day", _WHICH_DAY, _WEEKDAY, lacking="required",
               wording=frozenset({"周几", "星期几", "礼拜几", "哪几天"})),
          Kind("hours", _WHAT_HOURS, _HOURS, lacking="required"),
          Kind("time", _WHEN, _TIME, lacking="learned"),
          Kind("place", _WHERE, None, bonus=PLACE_BONUS),
          Kind("cost", _HOW_MUCH, _PRICE, lacking="required", wording=COST_WORDS),
          Kind("person", _WHO, _PERSON),
          Kind("list", _WHICH_ONES, _LIST, bonus=PLACE_BONUS),
          Kind("how", _HOW_TO, None, bonus=0.0))  # lacking: see features.kind_checks
# A question naming a place (港湾社区, 航海东路, 郑州市) asks about that place: a passage
# about another one is not its answer, however much else it shares.
PLACE_NAME_ENDS = ("社区", "街道", "小区", "村", "镇", "乡", "县", "市", "省", "路", "街")
# A word with one of these endings is a place one goes to (活动区, 图书馆, 服务中心): worth
# asking 在哪里 about (the bot's suggested questions). Not a named place: 图书馆 names no
# area, and 港湾社区 is no facility, so the two lists stay apart.
FACILITY_ENDS = ("区", "园", "站", "中心", "驿站", "角", "馆", "室", "广场", "堂")
# A service place is named by what it serves and what kind of place it is, and residents
# and notices choose the second part differently: 养老院 for 养老服务中心, 图书馆 for 图书室.
SERVICE_PLACE_ENDS = (*FACILITY_ENDS, "院", "所", "机构", "场所")
# A few characters may stand between the two (养老 服务 中心).
SERVICE_PLACE_GAP = 4


def service_place(word: str, is_token: Callable[[str], int]) -> re.Pattern[str] | None:
    """A pattern for a service place's name with any other place ending (养老院: 养老…中心).

    Only for a word ending in a place ending after a head of at least two characters that
    the index has as a token (`is_token`: its passage count): 医院's head 医 says too little.
    """
    end = next((e for e in sorted(SERVICE_PLACE_ENDS, key=len, reverse=True)
                if word.endswith(e)), None)
    head = word[: -len(end)] if end else ""
    if len(head) < 2 or not is_token(head):
        return None
    ends = "|".join(map(re.escape, SERVICE_PLACE_ENDS))
    return re.compile(f"{re.escape(head)}[\u4e00-\u9fff]{{0,{SERVICE_PLACE_GAP}}}(?:{ends})")


# A test for the kind of answer asked for: the bonus share a sentence gains (0: none).
PlaceTest = Callable[[str], float]


def kind_missing(kind: Kind | None, shown: str) -> str | None:
    """How the gate weighs the kind asked for (`Kind.lacking`) if the passage shown lacks it."""
    if kind is None or kind.answer is None or kind.answer.search(shown) is not None:
        return None
    return kind.lacking


def action_asked(kind: Kind | None, question: str, words: Iterable[str]) -> list[str]:
    """The words naming the action a how-question asks about (报名 of 志愿者怎么报名).

    `question`: the normalised question; `words`: its meaningful words.
    """
    if kind is None or kind.name != "how":
        return []
    found = kind.asks.search(question)
    if found is None:
        return []
    return [w for w in words if len(w) > 1 and question.startswith(w, found.end())]


Trie = dict[str, "Trie"]


def trie_pattern(words: Iterable[str]) -> str:
    """A regular expression for any of `words`, the longest where several start at one place.

    The words share prefixes as a trie (十八里河(?:街道)?): twice as fast to scan
    as an alternation of hundreds of names, with the same matches.
    """
    trie: Trie = {}
    for word in filter(None, words):
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def pattern(node: Trie) -> str:
        branches = [re.escape(char) + pattern(child)
                    for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return pattern(trie)
