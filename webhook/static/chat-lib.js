/* FundGuard web chat, the parts without a page: storage, the kept conversation, reading aloud, shrinking a
   photo. Loaded before chat.js; exposes window.FundGuardLib. Plain JS, no build step. */
(function () {
  "use strict";

  var KEY_LOG = "fundguard.log", MAX_ITEMS = 400;
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

  /* The conversation as shown, kept on this device so a reload or a closed tab loses nothing (the receipt
     above all). Items: {k:"u"|"b"|"e", t:text} bubbles, {k:"q", b:[labels]} quick replies, {k:"r", c:code}
     a receipt, {k:"i"} a sent picture (never its bytes), {k:"d"} the start of a new conversation. */
  function History() {
    var data = null;
    try { data = JSON.parse(load(KEY_LOG) || "null"); } catch (e) { data = null; }
    this.items = data && Array.isArray(data.items) ? data.items.filter(function (it) {
      return it && typeof it === "object" && typeof it.k === "string";
    }) : [];
    this.expects = data && typeof data.expects === "string" ? data.expects : null;
  }
  History.prototype.add = function (item) {
    this.items.push(item);
    if (this.items.length > MAX_ITEMS) { /* drop the oldest, but never a receipt */
      var drop = this.items.length - MAX_ITEMS;
      this.items = this.items.filter(function (it) { return it.k === "r" || drop-- <= 0; });
    }
    this.store();
  };
  History.prototype.setExpects = function (slot) { this.expects = slot || null; this.store(); };
  History.prototype.store = function () {
    save(KEY_LOG, JSON.stringify({ v: 1, items: this.items, expects: this.expects }));
  };
  History.prototype.clear = function () { this.items = []; this.expects = null; save(KEY_LOG, null); };

  /* Reading aloud with the browser's own zh-CN voice (no text leaves the device). */
  var synth = window.speechSynthesis;
  var canSpeak = !!(synth && typeof window.SpeechSynthesisUtterance === "function");
  function zhVoice() {
    var voices = synth.getVoices ? synth.getVoices() : [];
    for (var i = 0; i < voices.length; i++) if (/^zh[-_]CN/i.test(voices[i].lang)) return voices[i];
    for (var j = 0; j < voices.length; j++) if (/^zh/i.test(voices[j].lang)) return voices[j];
    return null;
  }
  function speak(text, onEnd) {
    synth.cancel();
    var u = new window.SpeechSynthesisUtterance(text.replace(/[【】·•]/g, " "));
    u.lang = "zh-CN";
    u.rate = 0.9; /* a little slower than usual, for older listeners */
    var voice = zhVoice();
    if (voice) u.voice = voice;
    u.onend = u.onerror = onEnd;
    synth.speak(u);
  }
  function stopSpeaking() { if (canSpeak) synth.cancel(); }

  /* A photo made into a JPEG small enough for the server's limit (phone photos are several MB). Read as a
     data: URL because the page's CSP allows no blob: images. */
  var MAX_BYTES = 230 * 1024;
  function shrink(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onerror = function () { reject(new Error("read")); };
      reader.onload = function () {
        var img = new Image();
        img.onerror = function () { reject(new Error("decode")); };
        img.onload = function () { encode(img, 1600, 0.85, resolve, reject); };
        img.src = String(reader.result);
      };
      reader.readAsDataURL(file);
    });
  }
  function encode(img, side, quality, resolve, reject) {
    var scale = Math.min(1, side / Math.max(img.naturalWidth, img.naturalHeight));
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
    canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
    var g = canvas.getContext("2d");
    g.fillStyle = "#fff"; /* transparent PNGs become white, not black */
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.drawImage(img, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      if (!blob) { reject(new Error("encode")); return; }
      if (blob.size <= MAX_BYTES) { resolve({ blob: blob, preview: canvas.toDataURL("image/jpeg", 0.5) }); return; }
      if (quality > 0.55) encode(img, side, quality - 0.15, resolve, reject);
      else if (side > 400) encode(img, Math.round(side * 0.7), 0.8, resolve, reject);
      else reject(new Error("too big"));
    }, "image/jpeg", quality);
  }

  window.FundGuardLib = {
    load: load, save: save, has: has, History: History,
    canSpeak: canSpeak, speak: speak, stopSpeaking: stopSpeaking, shrink: shrink
  };
}());
