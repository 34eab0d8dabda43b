// 邻里 chat page: asks /api/ask and renders each reply as text (never as HTML).
"use strict";
(function () {
  var KEY = "linli-conversation";
  var APOLOGY = "抱歉，出了点问题，请稍后再试。";
  var conversation = null;

  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var text = "";
    for (var i = 0; i < bytes.length; i++) { text += String.fromCharCode(bytes[i]); }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function conversationId() {
    if (conversation) { return conversation; }
    try { conversation = window.sessionStorage.getItem(KEY); } catch (e) { conversation = null; }
    if (!conversation || !/^[A-Za-z0-9_-]{16,64}$/.test(conversation)) {
      conversation = newId();
      try { window.sessionStorage.setItem(KEY, conversation); } catch (e) { /* memory only */ }
    }
    return conversation;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function button(label, onPress) {
    var node = el("button", null, label);
    node.type = "button";
    node.addEventListener("click", onPress);
    return node;
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST", credentials: "omit",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {error: APOLOGY}; });
    });
  }

  var log, status, input;

  function say(text) { status.textContent = text; }

  function passage(text, bold) {
    var node = el("p", "passage");
    var at = bold ? text.indexOf(bold) : -1;
    if (at < 0) { node.textContent = text; return node; }
    node.appendChild(document.createTextNode(text.slice(0, at)));
    node.appendChild(el("strong", null, bold));
    node.appendChild(document.createTextNode(text.slice(at + bold.length)));
    return node;
  }

  function citation(c) {
    var node = el("div", "citation");
    node.appendChild(el("div", "title", "《" + c.title + "》"));
    if (c.section) { node.appendChild(el("div", "section", c.section)); }
    var details = [c.source, c.date_text, c.byline].filter(Boolean).join(" · ");
    if (details) { node.appendChild(el("div", "details", details)); }
    if (c.url && /^https?:\/\//i.test(c.url)) {
      var link = el("a", null, c.url);
      link.href = c.url; link.rel = "noopener noreferrer"; link.target = "_blank";
      node.appendChild(link);
    }
    return node;
  }

  function suggestions(list) {
    var row = el("ul", "suggestions");
    row.setAttribute("aria-label", "可以这样问");
    list.forEach(function (question) {
      var item = el("li");
      item.appendChild(button(question, function () { ask(question); }));
      row.appendChild(item);
    });
    return row;
  }

  function showArticle(reply, id, toggle) {
    var open = reply.querySelector(".article");
    if (open) {
      open.hidden = !open.hidden;
      toggle.setAttribute("aria-expanded", String(!open.hidden));
      if (!open.hidden) { open.querySelector("h3").focus(); }
      return;
    }
    say("正在打开全文……");
    fetch("/api/article/" + encodeURIComponent(id), {credentials: "omit"})
      .then(function (r) { return r.json(); })
      .then(function (a) {
        if (a.error) { say(a.error); return; }
        var box = el("section", "article");
        var heading = el("h3", null, "《" + a.title + "》");
        heading.tabIndex = -1;
        box.appendChild(heading);
        a.sections.forEach(function (s) {
          if (s.heading) { box.appendChild(el("h4", null, s.heading)); }
          s.paragraphs.forEach(function (p) { box.appendChild(el("p", null, p)); });
        });
        box.appendChild(citation(a.citation));
        reply.appendChild(box);
        toggle.setAttribute("aria-expanded", "true");
        say("已打开全文：《" + a.title + "》");
        heading.focus();
      })
      .catch(function () { say(APOLOGY); });
  }

  function vote(actions, questionId, value) {
    post("/api/feedback", {conversation: conversationId(), question_id: questionId, value: value})
      .then(function (r) {
        var thanks = el("p", "thanks", r.text || r.error || APOLOGY);
        actions.querySelectorAll(".vote").forEach(function (b) { b.remove(); });
        actions.appendChild(thanks);
        say(thanks.textContent);
        input.focus();
      })
      .catch(function () { say(APOLOGY); });
  }

  function render(r) {
    var reply = el("article", "reply");
    reply.setAttribute("aria-label", "回答");
    (r.notes || []).forEach(function (n) { reply.appendChild(el("p", "note", n)); });
    if (r.topic) { reply.appendChild(el("p", "topic", "关于“" + r.topic + "”：")); }
    if (r.citation) {
      reply.appendChild(passage(r.text, r.bold));
      reply.appendChild(citation(r.citation));
      if (r.stale) { reply.appendChild(el("p", "stale", r.stale)); }
      var actions = el("div", "actions");
      var full = button("📖 阅读全文", function () { showArticle(reply, r.article_id, full); });
      full.setAttribute("aria-expanded", "false");
      actions.appendChild(full);
      [[1, "👍 有用"], [-1, "👎 没用"]].forEach(function (v) {
        var b = button(v[1], function () { vote(actions, r.question_id, v[0]); });
        b.className = "vote";
        actions.appendChild(b);
      });
      reply.appendChild(actions);
    } else {
      reply.appendChild(el("p", "honest", r.text || r.error || APOLOGY));
      if (r.suggestions && r.suggestions.length) { reply.appendChild(suggestions(r.suggestions)); }
    }
    return reply;
  }

  function ask(question) {
    question = question.trim();
    if (!question) { say("请先输入问题。"); input.focus(); return; }
    var turn = el("div", "turn");
    var asked = el("p", "asked");
    asked.appendChild(el("bdi", null, question));
    turn.appendChild(asked);
    log.appendChild(turn);
    say("正在查找……");
    post("/api/ask", {question: question, conversation: conversationId()})
      .then(function (r) {
        if (r.conversation) { conversation = r.conversation; }
        turn.appendChild(render(r));
        say("");
      })
      .catch(function () { turn.appendChild(render({error: APOLOGY})); say(""); })
      .then(function () {
        turn.scrollIntoView({block: "nearest"});
        input.focus();
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    log = document.getElementById("log");
    status = document.getElementById("status");
    input = document.getElementById("question");
    document.getElementById("ask").addEventListener("submit", function (event) {
      event.preventDefault();
      var question = input.value;
      input.value = "";
      ask(question);
    });
    document.querySelectorAll("header .suggestion").forEach(function (b) {
      b.addEventListener("click", function () { ask(b.textContent); });
    });
    input.focus();
    // In a district's frame, the 社区问答 button focuses the frame: put the focus in the
    // question box, not on the frame, so keyboard and screen-reader users can type at once.
    window.addEventListener("focus", function () {
      if (!document.activeElement || document.activeElement === document.body) { input.focus(); }
    });
    window.addEventListener("message", function (event) {
      if (event.data === "linli:focus") { input.focus(); }  // harmless from anyone
    });
  });
})();
