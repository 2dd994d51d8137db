/* FundGuard web chat: plain JS, no framework, no build step. Loaded in <head> (no defer) so the
   large-font class is set before the first paint; everything else waits for the DOM. */
(function () {
  "use strict";

  var L = window.FundGuardLib, V = L.view, load = L.load, save = L.save, has = L.has, el = V.el;
  var KEY_USER = "fundguard.user", KEY_BIG = "fundguard.bigfont";
  var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  var WELCOME = "您好！我是防范非法集资智能问答助手，可以为您讲解什么是非法集资、帮您看看一个投资项目靠不靠谱，也可以受理举报线索。" +
    "举报可以匿名，您提供的线索会严格保密。";
  var STARTERS = ["什么是非法集资", "帮我看看靠不靠谱", "我要举报", "查询举报进度"];
  var MORE = "更多", MORE_OFFER = "回复“更多”";
  var ASK_NEW = "开始新对话吗？\n正在填写的举报会放弃；上面的记录（包括回执码）还保留在本机。";
  var ASK_CLEAR = "清除本机上的全部对话记录吗？\n回执码也会一起删除，请先抄下来或截图。清除后无法恢复。";
  var DEFAULT_PLACEHOLDER = "请输入您的问题";
  var PLACEHOLDERS = { /* by the tip slot named in `expects` */
    region: "例如：石泉县", subject: "例如：某某投资公司、某某养老项目",
    description: "例如：承诺高额回报、拉亲友入伙、在哪里活动",
    amount: "例如：大约20万，不清楚可回复 跳过", participants: "例如：大约30人，不清楚可回复 跳过",
    evidence: "可点“图片”发照片，或用文字说明，没有可回复 跳过",
    contact: "回复 匿名 或 姓名+电话", confirm: "回复 确认 提交"
  };

  var root = document.documentElement;
  root.classList.toggle("bigfont", load(KEY_BIG) === "1");

  function newUserId() {
    var id = "w-", buf = new Uint8Array(32);
    while (id.length < 24) {
      window.crypto.getRandomValues(buf);
      for (var i = 0; i < buf.length && id.length < 24; i++) {
        if (buf[i] < 248) id += ALPHABET.charAt(buf[i] % 62); /* 248 = 4 * 62: no modulo bias */
      }
    }
    return id;
  }
  function getUser() {
    var u = load(KEY_USER);
    if (!u || !/^w-[A-Za-z0-9]{22}$/.test(u)) { u = newUserId(); save(KEY_USER, u); }
    return u;
  }

  function init() {
    function $(id) { return document.getElementById(id); }
    var log = $("log"), form = $("composer"), input = $("msg"), sendBtn = $("send");
    var hint = $("flowhint"), bigBtn = $("bigfont"), newBtn = $("newchat"), clearBtn = $("clearlog");
    var photoBtn = $("photo"), photoFile = $("photofile");
    var history = new L.History();
    var sending = false, generation = 0; /* bumped by 新对话 so a late answer to the old chat is dropped */
    var lastGroup = null; /* the newest quick-reply group, re-enabled if a send fails */

    function scrollToBottom() { log.scrollTop = log.scrollHeight; }
    /* Put the start of a new answer at the top if it is long; otherwise this clamps to the bottom. */
    function reveal(node) { log.scrollTop = Math.max(0, node.offsetTop - 12); }

    function addBubble(kind, text) {
      var b = log.appendChild(el("div", "msg " + kind));
      if (kind === "bot") V.fillText(b, text); else b.textContent = text;
      if (kind === "bot" && L.canSpeak) b.appendChild(V.speakButton(text, log));
      return b;
    }

    function addButtons(labels) {
      var group = el("div", "quick-replies");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "快捷回复");
      labels.forEach(function (label) {
        var b = el("button", "quick-reply" + (label === MORE ? " more" : ""), label);
        b.type = "button";
        b.addEventListener("click", function () {
          if (sending || b.disabled) return;
          b.classList.add("chosen");
          send(label, false);
        });
        group.appendChild(b);
      });
      return log.appendChild(group);
    }

    function setButtonsDisabled(scope, disabled) {
      Array.prototype.forEach.call(scope.querySelectorAll(".quick-reply"), function (b) {
        b.disabled = disabled;
        if (!disabled) b.classList.remove("chosen");
      });
    }

    /* One item of the kept conversation, drawn; `record` also stores it. */
    function draw(item, record) {
      var node = null;
      if (item.k === "u" || item.k === "b" || item.k === "e") {
        node = addBubble({ u: "user", b: "bot", e: "bot error" }[item.k], String(item.t || ""));
      } else if (item.k === "q" && Array.isArray(item.b)) {
        node = lastGroup = addButtons(item.b.filter(function (x) { return typeof x === "string"; }));
      } else if (item.k === "r" && typeof item.c === "string") {
        node = log.appendChild(V.receiptBox(item.c));
      } else if (item.k === "i") {
        node = log.appendChild(V.pictureBubble(record ? item.preview : null));
      } else if (item.k === "d") {
        node = log.appendChild(el("div", "divider", "新对话"));
      }
      if (record) history.add(item.k === "i" ? { k: "i" } : item);
      return node;
    }

    function setExpects(slot) {
      var on = typeof slot === "string" && slot !== "";
      hint.hidden = !on;
      input.placeholder = !on ? DEFAULT_PLACEHOLDER
        : has(PLACEHOLDERS, slot) ? PLACEHOLDERS[slot] : "请输入，可随时回复 取消";
      history.setExpects(on ? slot : null);
    }

    function setSending(on) {
      sending = sendBtn.disabled = photoBtn.disabled = on;
      log.setAttribute("aria-busy", String(on));
    }

    function render(data) {
      var first = null;
      lastGroup = null;
      data.replies.forEach(function (r) {
        if (!r || typeof r !== "object") return;
        var text = r.text === undefined || r.text === null ? "" : String(r.text);
        if (text.trim()) { var b = draw({ k: "b", t: text }, true); first = first || b; }
        var labels = Array.isArray(r.buttons) ? r.buttons.filter(function (x) {
          return typeof x === "string" && x.trim() !== "";
        }) : [];
        if (text.indexOf(MORE_OFFER) >= 0 && labels.indexOf(MORE) < 0) labels.unshift(MORE); /* offered: one tap */
        if (labels.length) { var g = draw({ k: "q", b: labels }, true); first = first || g; }
      });
      if (typeof data.receipt === "string" && data.receipt) {
        var box = draw({ k: "r", c: data.receipt }, true); first = first || box;
      }
      if (!first) first = draw({ k: "b", t: "抱歉，暂时没有回复，请换个说法或稍后再试。" }, true);
      setExpects(data.expects);
      return first;
    }

    /* One request to the bot: `shown` is what the person sent, `request` makes the fetch options. */
    async function exchange(shown, request, onFail) {
      if (sending) return;
      var myGen = generation;
      setSending(true);
      setButtonsDisabled(log, true);
      draw(shown, true);
      var pending = log.appendChild(el("div", "pending", "正在回复…"));
      scrollToBottom();
      var res = null, data = null, ctl = typeof AbortController === "function" ? new AbortController() : null;
      var timer = ctl ? window.setTimeout(function () { ctl.abort(); }, 30000) : 0;
      try {
        var opts = request();
        opts.method = "POST"; opts.credentials = "same-origin"; opts.cache = "no-store";
        opts.signal = ctl ? ctl.signal : undefined;
        res = await fetch(opts.url, opts);
        try { data = await res.json(); } catch (e) { data = null; }
      } catch (e) { res = null; } /* network down, timeout */
      window.clearTimeout(timer);
      if (myGen !== generation) return; /* 新对话 was pressed meanwhile */
      pending.remove();
      if (res && res.ok && data && Array.isArray(data.replies)) {
        reveal(render(data));
      } else {
        draw({ k: "e", t: V.errorText(res, data, shown.t || "") }, true);
        if (lastGroup) setButtonsDisabled(lastGroup, false); /* let them tap again */
        if (onFail) onFail();
        scrollToBottom();
      }
      setSending(false);
    }

    function send(rawText, fromInput) {
      var text = String(rawText || "").trim();
      if (!text || sending) return;
      if (fromInput) input.value = "";
      exchange({ k: "u", t: text }, function () {
        return { url: "/api/chat", headers: { "Content-Type": "application/json", "Accept": "application/json" },
                 body: JSON.stringify({ user: getUser(), text: text }) };
      }, function () { if (fromInput && !input.value) input.value = text; }); /* easy to retry or split */
    }

    async function sendPicture(file) {
      var shrunk = null;
      try { shrunk = await L.shrink(file); } catch (e) { shrunk = null; }
      if (!shrunk) {
        draw({ k: "e", t: "这张图片打不开，请换一张照片或截图再试。" }, true);
        scrollToBottom();
        return;
      }
      exchange({ k: "i", preview: shrunk.preview }, function () {
        var body = new FormData();
        body.append("user", getUser());
        body.append("image", shrunk.blob, "photo.jpg");
        return { url: "/api/chat/image", headers: { "Accept": "application/json" }, body: body };
      });
    }

    function welcome() { draw({ k: "b", t: WELCOME }, true); draw({ k: "q", b: STARTERS }, true); }

    function restore() {
      history.items.forEach(function (item) { draw(item, false); });
      setButtonsDisabled(log, true);
      var lastItem = history.items[history.items.length - 1];
      if (lastGroup && lastItem && lastItem.k === "q") setButtonsDisabled(lastGroup, false);
      setExpects(history.expects);
      scrollToBottom();
    }

    function applyBig(on) {
      root.classList.toggle("bigfont", on);
      bigBtn.textContent = on ? "标准字" : "大字";
      bigBtn.title = on ? "恢复标准字号" : "放大字号";
    }

    /* The on-screen keyboard takes half a phone's height: fold the header away while typing. */
    function fold() {
      var vv = window.visualViewport, small = window.matchMedia("(max-width: 48rem)").matches;
      var keyboard = vv ? vv.height < window.innerHeight * 0.75 : false;
      root.classList.toggle("typing", small && (document.activeElement === input || keyboard));
    }

    form.addEventListener("submit", function (e) { e.preventDefault(); send(input.value, true); });
    input.addEventListener("keydown", function (e) {
      /* Enter sends, Shift+Enter is a new line; never while an IME (pinyin) is composing. */
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        send(input.value, true);
      }
    });
    input.addEventListener("focus", fold);
    input.addEventListener("blur", function () { window.setTimeout(fold, 150); });
    if (window.visualViewport) window.visualViewport.addEventListener("resize", fold);
    photoBtn.addEventListener("click", function () { if (!sending) photoFile.click(); });
    photoFile.addEventListener("change", function () {
      var file = photoFile.files && photoFile.files[0];
      photoFile.value = "";
      if (file) sendPicture(file);
    });
    bigBtn.addEventListener("click", function () {
      var on = !root.classList.contains("bigfont");
      applyBig(on);
      save(KEY_BIG, on ? "1" : "0");
      var bots = log.querySelectorAll(".msg.bot"); /* keep the latest answer in view after reflow */
      if (bots.length) reveal(bots[bots.length - 1]);
    });
    function restart(clearAll) {
      generation++;
      L.stopSpeaking();
      setSending(false);
      save(KEY_USER, null);
      getUser();
      input.value = "";
      if (clearAll) { history.clear(); log.textContent = ""; } else { setButtonsDisabled(log, true); draw({ k: "d" }, true); }
      setExpects(null);
      welcome();
      scrollToBottom();
    }
    newBtn.addEventListener("click", function () { if (window.confirm(ASK_NEW)) restart(false); });
    clearBtn.addEventListener("click", function () { if (window.confirm(ASK_CLEAR)) restart(true); });

    applyBig(root.classList.contains("bigfont"));
    getUser();
    if (history.items.length) restore(); else { setExpects(null); welcome(); }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
}());
