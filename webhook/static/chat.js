/* FundGuard web chat: plain JS, no framework, no build step. Loaded in <head> (no defer) so the
   large-font class is set before the first paint; everything else waits for the DOM. */
(function () {
  "use strict";

  var KEY_USER = "fundguard.user", KEY_BIG = "fundguard.bigfont";
  var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  var WELCOME = "您好！我是防范非法集资智能问答助手，可以为您讲解什么是非法集资、帮您看看一个投资项目靠不靠谱，也可以受理举报线索。" +
    "举报可以匿名，您提供的线索会严格保密。";
  var STARTERS = ["什么是非法集资", "帮我看看靠不靠谱", "我要举报", "查询举报进度"];
  var DEFAULT_PLACEHOLDER = "请输入您的问题";
  var PLACEHOLDERS = { /* by the tip slot named in `expects` */
    region: "例如：石泉县", subject: "例如：某某投资公司、某某养老项目",
    description: "例如：承诺高额回报、拉亲友入伙、在哪里活动",
    amount: "例如：大约20万，不清楚可回复 跳过", participants: "例如：大约30人，不清楚可回复 跳过",
    evidence: "点“图片”发照片或截图，或说说有哪些证据；没有可回复 跳过",
    contact: "回复 匿名 或 姓名+电话", confirm: "回复 确认 提交"
  };
  function has(obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); }

  /* localStorage may be missing or throw (private mode, locked-down browsers): fall back to memory. */
  var memory = {};
  function load(key) {
    try { var v = window.localStorage.getItem(key); if (v !== null) return v; } catch (e) { /* ignore */ }
    return has(memory, key) ? memory[key] : null;
  }
  function save(key, value) {
    if (value === null) delete memory[key]; else memory[key] = value;
    try { if (value === null) localStorage.removeItem(key); else localStorage.setItem(key, value); } catch (e) { /* ignore */ }
  }

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

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text; /* server text: never innerHTML */
    return e;
  }

  function init() {
    function $(id) { return document.getElementById(id); }
    var log = $("log"), form = $("composer"), input = $("msg"), sendBtn = $("send");
    var hint = $("flowhint"), bigBtn = $("bigfont"), newBtn = $("newchat"), photo = $("photo");
    var sending = false, generation = 0; /* bumped by 新对话 so a late answer to the old chat is dropped */
    var lastGroup = null; /* the newest quick-reply group, re-enabled if a send fails */

    function scrollToBottom() { log.scrollTop = log.scrollHeight; }
    /* Put the start of a new answer at the top if it is long; otherwise this clamps to the bottom. */
    function reveal(node) { log.scrollTop = Math.max(0, node.offsetTop - 12); }

    function addBubble(kind, text) { return log.appendChild(el("div", "msg " + kind, text)); }

    function addButtons(labels) {
      var group = el("div", "quick-replies");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "快捷回复");
      labels.forEach(function (label) {
        var b = el("button", "quick-reply", label);
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

    function copyCode(code, codeEl, btn) {
      function done(ok) {
        btn.textContent = ok ? "已复制" : "请长按复制";
        window.setTimeout(function () { btn.textContent = "复制"; }, 2500);
      }
      function fallback() {
        var ok = false;
        try { /* the code is left selected, so a manual copy is one tap away */
          var range = document.createRange(), sel = window.getSelection();
          range.selectNodeContents(codeEl);
          sel.removeAllRanges();
          sel.addRange(range);
          ok = document.execCommand("copy");
        } catch (e) { ok = false; }
        done(ok);
      }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(code).then(function () { done(true); }, fallback);
      } else fallback();
    }

    function addReceipt(code) {
      var old = document.getElementById("receipt");
      if (old) old.removeAttribute("id");
      var box = el("div", "receipt");
      box.id = "receipt";
      box.appendChild(el("div", "receipt-label", "您的举报回执码"));
      var row = el("div", "receipt-row");
      var codeEl = el("span", "receipt-code", code);
      var btn = el("button", "copy", "复制");
      btn.type = "button";
      btn.setAttribute("aria-label", "复制回执码");
      btn.addEventListener("click", function () { copyCode(code, codeEl, btn); });
      row.append(codeEl, btn);
      box.append(row, el("p", "receipt-note", "请保存好回执码，凭它查询进度，不需要提供身份"));
      return log.appendChild(box);
    }

    function setExpects(slot) {
      var on = typeof slot === "string" && slot !== "";
      hint.hidden = !on;
      input.placeholder = !on ? DEFAULT_PLACEHOLDER
        : has(PLACEHOLDERS, slot) ? PLACEHOLDERS[slot] : "请输入，可随时回复 取消";
    }

    function setSending(on) {
      sending = sendBtn.disabled = on;
      log.setAttribute("aria-busy", String(on));
    }

    function render(data) {
      var first = null;
      lastGroup = null;
      data.replies.forEach(function (r) {
        if (!r || typeof r !== "object") return;
        var text = r.text === undefined || r.text === null ? "" : String(r.text);
        if (text.trim()) { var b = addBubble("bot", text); first = first || b; }
        var labels = Array.isArray(r.buttons) ? r.buttons.filter(function (x) {
          return typeof x === "string" && x.trim() !== "";
        }) : [];
        if (labels.length) { lastGroup = addButtons(labels); first = first || lastGroup; }
      });
      if (typeof data.receipt === "string" && data.receipt) { var box = addReceipt(data.receipt); first = first || box; }
      if (!first) first = addBubble("bot", "抱歉，暂时没有回复，请换个说法或稍后再试。");
      setExpects(data.expects);
      return first;
    }

    function serverMessage(data) {
      if (!data || typeof data !== "object") return "";
      var m = data.detail !== undefined ? data.detail : data.error;
      if (typeof m === "string") return m;
      return m && typeof m === "object" && typeof m.message === "string" ? m.message : "";
    }

    function errorText(res, data, text) {
      var msg = serverMessage(data);
      if (!res) return "网络连接失败，请检查网络后再试。";
      if (res.status === 429) return msg || "发送太频繁了，请稍等一会儿再试。";
      var raw = JSON.stringify(data) || ""; /* data came from JSON, so this cannot throw */
      if (res.status === 413 || (res.status === 422 &&
          (text.length >= 1000 || /too[ _]long|at most|太长|过长|超过/i.test(raw)))) return "消息太长了，请分几次发送。";
      return "发送失败，请稍后再试。" + (msg ? "\n（" + msg + "）" : "");
    }

    async function send(rawText, fromInput) {
      var text = String(rawText || "").trim();
      if (!text || sending) return;
      var myGen = generation;
      setSending(true);
      setButtonsDisabled(log, true);
      addBubble("user", text);
      if (fromInput) input.value = "";
      var pending = log.appendChild(el("div", "pending", "正在回复…"));
      scrollToBottom();

      var res = null, data = null, ctl = typeof AbortController === "function" ? new AbortController() : null;
      var timer = ctl ? window.setTimeout(function () { ctl.abort(); }, 30000) : 0;
      try {
        res = await fetch("/api/chat", {
          method: "POST", credentials: "same-origin", cache: "no-store", signal: ctl ? ctl.signal : undefined,
          headers: { "Content-Type": "application/json", "Accept": "application/json" },
          body: JSON.stringify({ user: getUser(), text: text })
        });
        try { data = await res.json(); } catch (e) { data = null; }
      } catch (e) { res = null; } /* network down, timeout */
      window.clearTimeout(timer);
      if (myGen !== generation) return; /* 新对话 was pressed meanwhile */
      pending.remove();

      if (res && res.ok && data && Array.isArray(data.replies)) {
        reveal(render(data));
      } else {
        addBubble("bot error", errorText(res, data, text));
        if (lastGroup) setButtonsDisabled(lastGroup, false); /* let them tap again */
        if (fromInput && !input.value) input.value = text;   /* easy to retry or split */
        scrollToBottom();
      }
      setSending(false);
    }

    var MAX_PHOTO = 5 * 1024 * 1024;
    var PHOTO_ERRORS = { 413: "图片太大了，请发5MB以内的图片（截图一般都可以）。",
      415: "这个文件不是图片。请发JPG、PNG格式的截图或照片。", 400: "这张图片打不开，请换一张再试。" };

    /* A picture: evidence inside a tip; elsewhere the bot reads its text and checks it. */
    async function sendImage(file) {
      if (!file || sending) return;
      if (file.size > MAX_PHOTO) { addBubble("bot error", PHOTO_ERRORS[413]); scrollToBottom(); return; }
      var myGen = generation;
      setSending(true);
      setButtonsDisabled(log, true);
      addBubble("user", "［图片］");
      var pending = log.appendChild(el("div", "pending", "正在看图片…"));
      scrollToBottom();
      var body = new FormData(), res = null, data = null;
      body.append("user", getUser());
      body.append("image", file);
      try {
        res = await fetch("/api/chat/image", { method: "POST", credentials: "same-origin", cache: "no-store",
          headers: { "Accept": "application/json" }, body: body });
        try { data = await res.json(); } catch (e) { data = null; }
      } catch (e) { res = null; }
      if (myGen !== generation) return;
      pending.remove();
      if (res && res.ok && data && Array.isArray(data.replies)) reveal(render(data));
      else {
        var known = res && has(PHOTO_ERRORS, res.status) ? PHOTO_ERRORS[res.status] : "";
        addBubble("bot error", known || errorText(res, data, ""));
        if (lastGroup) setButtonsDisabled(lastGroup, false);
        scrollToBottom();
      }
      setSending(false);
    }

    function welcome() { addBubble("bot", WELCOME); lastGroup = addButtons(STARTERS); }

    function applyBig(on) {
      root.classList.toggle("bigfont", on);
      bigBtn.textContent = on ? "标准" : "大字";
      bigBtn.title = on ? "恢复标准字号" : "放大字号";
    }

    form.addEventListener("submit", function (e) { e.preventDefault(); send(input.value, true); });
    photo.addEventListener("change", function () {
      var file = photo.files && photo.files[0];
      photo.value = ""; /* the same picture can be chosen again */
      sendImage(file);
    });
    input.addEventListener("keydown", function (e) {
      /* Enter sends, Shift+Enter is a new line; never while an IME (pinyin) is composing. */
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        send(input.value, true);
      }
    });
    bigBtn.addEventListener("click", function () {
      var on = !root.classList.contains("bigfont");
      applyBig(on);
      save(KEY_BIG, on ? "1" : "0");
      var bots = log.querySelectorAll(".msg.bot"); /* keep the latest answer in view after reflow */
      if (bots.length) reveal(bots[bots.length - 1]);
    });
    newBtn.addEventListener("click", function () {
      generation++;
      setSending(false);
      save(KEY_USER, null);
      getUser();
      log.textContent = "";
      input.value = "";
      setExpects(null);
      welcome();
    });

    applyBig(root.classList.contains("bigfont"));
    getUser();
    setExpects(null);
    welcome();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
}());
