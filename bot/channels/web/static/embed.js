// 邻里: one line on a district's site, <script src="https://LINLI-HOST/embed.js" async></script>,
// adds a 社区问答 button that opens the chat page (served by linli) in a frame.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var origin = new URL(script.src).origin;
  var panel = document.createElement("iframe");
  panel.src = origin + "/?embed=1";
  panel.title = "邻里社区问答";
  panel.id = "linli-chat-frame";
  panel.hidden = true;
  panel.style.cssText = "position:fixed;right:1rem;bottom:4.5rem;width:min(26rem,calc(100vw - 2rem));" +
    "height:min(40rem,calc(100vh - 6rem));border:1px solid #c9d3cd;border-radius:0.8rem;" +
    "background:#fff;z-index:2147483000;box-shadow:0 4px 16px rgba(0,0,0,.2);";
  var toggle = document.createElement("button");
  toggle.type = "button";
  toggle.textContent = "💬 社区问答";
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", panel.id);
  toggle.style.cssText = "position:fixed;right:1rem;bottom:1rem;z-index:2147483000;font-size:17px;" +
    "min-height:44px;padding:0.4rem 1rem;border-radius:2rem;border:0;background:#0b6b3a;color:#fff;";
  toggle.addEventListener("click", function () {
    panel.hidden = !panel.hidden;
    toggle.setAttribute("aria-expanded", String(!panel.hidden));
    toggle.textContent = panel.hidden ? "💬 社区问答" : "✕ 关闭问答";
    if (!panel.hidden) {
      panel.focus();
      panel.contentWindow.postMessage("linli:focus", origin);  // into the question box
    }
  });
  document.body.appendChild(panel);
  document.body.appendChild(toggle);
})();
