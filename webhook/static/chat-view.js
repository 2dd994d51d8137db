/* FundGuard web chat, pieces of the page that need no state: elements, the verdict, the receipt box,
   error wording. Loaded after chat-lib.js and before chat.js; adds window.FundGuardLib.view. */
(function () {
  "use strict";

  var VERDICTS = [["明显高风险", "verdict high"], ["需要警惕", "verdict caution"]];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text; /* server text: never innerHTML */
    return e;
  }

  /* The verdict words stand out by weight, a mark and colour, never colour alone. */
  function fillText(node, text) {
    for (var i = 0; i < VERDICTS.length; i++) {
      var at = text.indexOf(VERDICTS[i][0]);
      if (at >= 0 && at < 40 && text.indexOf("结论") >= 0) {
        node.appendChild(document.createTextNode(text.slice(0, at)));
        node.appendChild(el("strong", VERDICTS[i][1], VERDICTS[i][0]));
        node.appendChild(document.createTextNode(text.slice(at + VERDICTS[i][0].length)));
        return;
      }
    }
    node.appendChild(document.createTextNode(text));
  }

  function copyCode(code, codeEl, btn) {
    function done(ok) {
      btn.textContent = ok ? "已复制" : "请长按复制";
      window.setTimeout(function () { btn.textContent = "复制回执码"; }, 2500);
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

  function receiptBox(code) {
    var old = document.getElementById("receipt");
    if (old) old.removeAttribute("id");
    var box = el("div", "receipt");
    box.id = "receipt";
    box.appendChild(el("div", "receipt-label", "您的举报回执码"));
    var row = el("div", "receipt-row");
    var codeEl = el("span", "receipt-code", code);
    var btn = el("button", "copy", "复制回执码");
    btn.type = "button";
    btn.setAttribute("aria-label", "复制回执码");
    btn.addEventListener("click", function () { copyCode(code, codeEl, btn); });
    row.append(codeEl, btn);
    box.append(row, el("p", "receipt-note", "请保存好回执码，凭它查询进度，不需要提供身份。本页会在这台设备上保留它，" +
      "直到您点“清除记录”。用的是别人的手机？抄下回执码后请点“清除记录”。"));
    return box;
  }

  /* "朗读": the browser reads one answer aloud in zh-CN; one at a time, a second tap stops it. */
  var SPEAK = "▶ 朗读", STOP = "■ 停止";
  function speakButton(text, log) {
    var btn = el("button", "speak", SPEAK);
    btn.type = "button";
    btn.setAttribute("aria-label", "朗读这条回复");
    btn.addEventListener("click", function () {
      var on = btn.classList.contains("speaking");
      Array.prototype.forEach.call(log.querySelectorAll(".speak.speaking"), function (x) {
        x.classList.remove("speaking"); x.textContent = SPEAK;
      });
      if (on) { window.FundGuardLib.stopSpeaking(); return; }
      btn.classList.add("speaking");
      btn.textContent = STOP;
      window.FundGuardLib.speak(text, function () { btn.classList.remove("speaking"); btn.textContent = SPEAK; });
    });
    return btn;
  }

  /* A sent picture: a small preview while the page is open; after a reload only the words. */
  function pictureBubble(preview) {
    var b = el("div", "msg user picture");
    if (preview) { var img = b.appendChild(el("img")); img.src = preview; img.alt = "您发送的图片"; }
    b.appendChild(el("span", "", "[已发送一张图片]"));
    return b;
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
    if (res.status === 415) return "这个文件不是照片，请选一张照片（JPG 或 PNG）。";
    var raw = JSON.stringify(data) || ""; /* data came from JSON, so this cannot throw */
    if (res.status === 413 || (res.status === 422 &&
        (text.length >= 1000 || /too[ _]long|at most|太长|过长|超过/i.test(raw)))) return "消息太长了，请分几次发送。";
    return "发送失败，请稍后再试。" + (msg ? "\n（" + msg + "）" : "");
  }

  window.FundGuardLib.view = {
    el: el, fillText: fillText, receiptBox: receiptBox, errorText: errorText, speakButton: speakButton,
    pictureBubble: pictureBubble
  };
}());
