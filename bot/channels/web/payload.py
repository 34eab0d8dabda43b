"""The web API's JSON: an answer, an honest no or an article, from the conversation's objects.

What the JSON carries is plain text; the page escapes it (it sets textContent, never HTML).
May import bot.conversation, bot.replies, corpus and retrieval; nothing of the web server.
"""

from typing import Any

from bot import replies
from bot.conversation import Asked, Conversation, article_key
from corpus.models import Article, format_date, is_web_address
from retrieval.search import MAX_QUESTION_CHARS, Hit, Outcome


def citation(source: Hit | Article, section: str | None = None) -> dict[str, Any]:
    """The citation's fields: title, section, source, date (and as written), byline, link."""
    return {"title": source.title, "section": section, "source": source.source,
            "date": source.date, "date_text": format_date(source.date) or replies.UNDATED,
            "byline": source.byline,
            "url": source.url if is_web_address(source.url) else None}


def asked(conversation: Conversation, result: Asked, conversation_id: str) -> dict[str, Any]:
    """The reply to POST /api/ask for one question the conversation answered or not."""
    notes = [replies.CUT_NOTE.format(limit=MAX_QUESTION_CHARS)] if result.cut else []
    body: dict[str, Any] = {
        "conversation": conversation_id, "question_id": result.question_id,
        "outcome": "empty", "confidence": 0.0, "text": result.reply.plain(), "bold": "",
        "citation": None, "article_id": None, "topic": result.topic, "notes": notes,
        "stale": None, "suggestions": [],
    }
    found = result.found
    if found is None or not found.hits:
        body["outcome"] = Outcome.NOTHING.value if found is not None else "empty"
        body["confidence"] = round(found.confidence, 3) if found is not None else 0.0
        body["suggestions"] = conversation.example_questions()
        return body
    hit = found.hits[0]
    text = hit.shown_text
    if found.outcome is Outcome.CLOSEST:
        notes.append(replies.CLOSEST.strip())
    body.update(outcome=found.outcome.value, confidence=round(found.confidence, 3), text=text,
                bold=hit.best_sentence if hit.best_sentence in text else "",
                citation=citation(hit, hit.section), article_id=article_key(hit.article_id))
    if conversation.is_stale(hit) and hit.date:
        body["stale"] = replies.STALE.format(date=format_date(hit.date))
    return body


def article(source: Article) -> dict[str, Any]:
    """The reply to GET /api/article/<id>: the whole text, section by section."""
    return {"article_id": article_key(source.id), "title": source.title,
            "subtitle": source.subtitle, "citation": citation(source),
            "sections": [{"heading": s.heading, "paragraphs": list(s.paragraphs)}
                         for s in source.sections]}


def welcome(conversation: Conversation) -> dict[str, Any]:
    """What the page says first: the welcome and the example questions."""
    return {"text": replies.WELCOME, "suggestions": conversation.example_questions()}
