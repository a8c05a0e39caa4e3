// The console: plain JavaScript, no build step. It reads the emulator's read-only
// console endpoints, changes the world only through the control plane, and follows
// /__emulator/console/live (server-sent events) to refresh what changed.
"use strict";

const $ = (id) => document.getElementById(id);
const S = {
  snap: null,        // the last snapshot
  account: null,     // open_kfid shown
  customer: null,    // external_userid shown
  calls: [],         // the API log, oldest first (at most the snapshot's kept_calls)
  lastCall: 0,
  diagnose: null,    // an errcode to explain in the session panel
  pending: new Set(),
  running: false,
};
const SHOWN_ROWS = 300;
// The call log's bound and the refusals a session's state explains come with the
// snapshot (the emulator's own constants), so the page restates neither.
const keptCalls = () => (S.snap ? S.snap.kept_calls : Infinity);
const diagnosed = (code) => Boolean(S.snap && S.snap.diagnosed.includes(code));

// ---- small helpers ----

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Replace `node`'s children, skipping the absent ones.
function put(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function time(secs) {
  return new Date(secs * 1000).toLocaleString("zh-CN", { hour12: false });
}

function clock(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString("zh-CN", { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

function notice(text, ok) {
  const n = $("notice");
  n.textContent = text;
  n.className = ok ? "ok" : "";
  n.hidden = !text;
}

// A control-plane call. A non-zero errcode is shown as the API gave it, and thrown.
async function call(method, path, body) {
  const init = { method, headers: {} };
  if (body instanceof FormData) {
    // The browser declares multipart/form-data with its boundary itself.
    init.body = body;
  } else if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let answer;
  try {
    const response = await fetch(path, init);
    answer = await response.json();
  } catch (e) {
    notice(`${path}: ${e}`);
    throw e;
  }
  if (answer.errcode !== 0) {
    notice(`errcode ${answer.errcode}: ${answer.errmsg}`);
    throw new Error(answer.errmsg);
  }
  return answer;
}

const enc = encodeURIComponent;

// ---- loading ----

// Refresh `what` ("world", "calls", "deliveries"), one fetch at a time: changes that
// come while one runs are gathered into the next.
function refresh(...what) {
  what.forEach((w) => S.pending.add(w));
  if (S.running) return;
  S.running = true;
  (async () => {
    while (S.pending.size) {
      const now = new Set(S.pending);
      S.pending.clear();
      try {
        if (now.has("world")) await loadWorld();
        if (now.has("calls")) await loadCalls();
        if (now.has("deliveries")) await loadDeliveries();
      } catch (e) {
        console.error(e);
      }
    }
    S.running = false;
  })();
}

async function loadWorld() {
  // The conversation on screen is fetched beside the snapshot and shown first: with a
  // thousand sessions the snapshot takes longer, and the thread is what is watched.
  const thread = fetchThread();
  const snapshot = fetch("/__emulator/console/snapshot").then((r) => r.json());
  if (S.snap) renderThread(await thread);
  const snap = await snapshot;
  S.snap = snap;
  const before = [S.account, S.customer];
  if (!S.account || !snap.accounts.some((a) => a.open_kfid === S.account)) {
    S.account = snap.accounts.length ? snap.accounts[0].open_kfid : null;
  }
  if (S.customer && !snap.customers.some((c) => c.external_userid === S.customer)) {
    S.customer = null;
  }
  renderWorld();
  const same = before[0] === S.account && before[1] === S.customer;
  if (!same || document.body.dataset.ready === undefined) {
    renderThread(same ? await thread : await fetchThread());
  }
  // When the page first showed the world, in ms since navigation (read by the tests).
  if (!document.body.dataset.ready) document.body.dataset.ready = performance.now().toFixed(0);
  if (snap.last_call > S.lastCall) await loadCalls();
}

// Rebuild `node`'s children only when `key` changed since the last time: the lists of a
// thousand customers and sessions are not rebuilt ten times a second for nothing.
function putIfChanged(node, key, build) {
  if (node.dataset.key === key) return;
  node.dataset.key = key;
  put(node, ...build());
}

// The conversation shown, or null when none is picked (or it is gone).
async function fetchThread() {
  if (!S.account || !S.customer) return null;
  let q = `open_kfid=${enc(S.account)}&external_userid=${enc(S.customer)}`;
  if (S.diagnose) q += `&errcode=${S.diagnose}`;
  const thread = await (await fetch(`/__emulator/console/thread?${q}`)).json();
  return thread.errcode === 0 ? thread : null;
}

async function loadCalls() {
  const answer = await (await fetch(`/__emulator/console/calls?after=${S.lastCall}`)).json();
  S.calls.push(...answer.calls);
  if (S.calls.length > keptCalls()) S.calls.splice(0, S.calls.length - keptCalls());
  S.lastCall = answer.last_call;
  renderCalls();
}

async function loadDeliveries() {
  const answer = await (await fetch("/__emulator/console/deliveries")).json();
  renderDeliveries(answer.deliveries);
}

function saveSelection() {
  const h = new URLSearchParams();
  if (S.account) h.set("kf", S.account);
  if (S.customer) h.set("c", S.customer);
  history.replaceState(null, "", "#" + h.toString());
}

// ---- rendering ----

function stateBadge(n, zh) {
  return el("span", { class: `badge s${n}`, title: zh || "" }, String(n));
}

function renderWorld() {
  const snap = S.snap;
  $("now").textContent = time(snap.now);
  const accountSelect = $("account-select");
  put(accountSelect, 
    ...snap.accounts.map((a) =>
      el("option", { value: a.open_kfid, selected: a.open_kfid === S.account }, `${a.name} (${a.open_kfid})`)),
  );
  const account = snap.accounts.find((a) => a.open_kfid === S.account);
  $("account-meta").textContent = account
    ? `${account.managed ? "由应用管理 managed by the app" : "未被应用管理 not managed"} · 分配方式 routing: ${account.routing}`
    : "没有账号 no account yet: create one below · 在下方新建";
  const servicers = account ? account.servicers : [];
  put($("servicers"), 
    ...(servicers.length ? servicers.map((s) =>
      el("li", { dataset: { userid: s.userid } },
        el("span", {}, `${s.name || s.userid} `, el("small", { class: "meta" }, s.userid)),
        el("span", {},
          el("span", { class: `badge ${s.status === 0 ? "serving" : "stopped"}` }, s.status === 0 ? "接待中 serving" : "停止 stopped"),
          " ",
          el("button", { class: "toggle", onclick: () => setStatus(s.userid, s.status === 0 ? 1 : 0) },
            s.status === 0 ? "停止 stop" : "接待 serve")))) :
      [el("li", { class: "meta" }, "没有接待人员 no servicers (add them with kf/servicer/add)")]),
  );
  const options = servicers.map((s) => el("option", { value: s.userid }, `${s.name || s.userid} (${s.userid})`));
  const keep = $("servicer-select").value;
  put($("servicer-select"), ...options);
  if (servicers.some((s) => s.userid === keep)) $("servicer-select").value = keep;
  const keepTo = $("transfer-to").value;
  put($("transfer-to"), ...servicers.map((s) => el("option", { value: s.userid }, `→ ${s.name || s.userid}`)));
  if (servicers.some((s) => s.userid === keepTo)) $("transfer-to").value = keepTo;

  const customers = snap.customers;
  putIfChanged($("customer-select"), `${customers.length}|${S.customer}|${customers.length && customers[customers.length - 1].external_userid}`, () => [
    el("option", { value: "" }, "— 选择客户 pick a customer —"),
    ...customers.map((c) =>
      el("option", { value: c.external_userid, selected: c.external_userid === S.customer },
        `${c.nickname || "(无昵称)"} · ${c.external_userid.slice(0, 12)}…`)),
  ]);
  const sessions = snap.sessions.filter((s) => s.open_kfid === S.account);
  $("session-count").textContent = `(${sessions.length})`;
  const shown = sessions.slice(0, SHOWN_ROWS);
  putIfChanged($("sessions"), JSON.stringify([S.customer, sessions.length, shown]), () => [
    ...shown.map((s) =>
      el("li", {
        class: s.external_userid === S.customer ? "current" : "",
        dataset: { customer: s.external_userid, state: s.state },
        onclick: () => pick(S.account, s.external_userid),
      },
      el("span", {}, s.nickname || s.external_userid.slice(0, 12)),
      el("span", {}, stateBadge(s.state, s.state_zh), s.servicer_userid ? ` ${s.servicer_userid}` : ""))),
    sessions.length > shown.length ? el("li", { class: "meta" }, `… ${sessions.length - shown.length} more`) : null,
  ]);
  $("callback-url").textContent = snap.callback_url
    ? `回调地址 callback URL: ${snap.callback_url}`
    : "未设置回调 no callback URL set (POST /__emulator/callback)";
  put($("faults"), 
    ...(snap.faults.length ? snap.faults.map((f) =>
      el("li", {}, `${f.kind}${f.errcode !== undefined ? " " + f.errcode : ""} → ${f.endpoint || "every /cgi-bin/ path"}` +
        (f.count !== null && f.count !== undefined ? ` (next ${f.count})` : ""))) :
      [el("li", { class: "meta" }, "没有故障 no faults")]),
  );
}

function describe(m) {
  const c = m.content || {};
  if (m.msgtype === "event") {
    switch (c.event_type) {
      case "enter_session": return `客户进入会话 entered${c.scene ? ` (scene ${c.scene})` : ""}${c.welcome_code ? " · welcome_code issued" : ""}`;
      case "session_status_change": return [
        "", `${c.new_servicer_userid} 接入 took the session`, `${c.old_servicer_userid} 转接给 transferred to ${c.new_servicer_userid}`,
        `${c.old_servicer_userid} 结束会话 ended the session`, `${c.new_servicer_userid} 重新接入 re-entered`,
      ][c.change_type] || "session_status_change";
      case "servicer_status_change": return `${c.servicer_userid} ${c.status === 1 ? "开始接待 serving" : "停止接待 stopped"}`;
      case "msg_send_fail": return `消息发送失败 send failed (fail_type ${c.fail_type})`;
      case "user_recall_msg": return "客户撤回了一条消息 the customer recalled a message";
      case "servicer_recall_msg": return `${c.servicer_userid} 撤回了一条消息 recalled a message`;
      case "reject_customer_msg_switch_change": return `拒收客户消息 reject switch: ${c.reject_switch}`;
      default: return c.event_type || "event";
    }
  }
  if (typeof c.content === "string") return c.content;
  if (m.msgtype === "msgmenu") return [c.head_content, ...(c.list || []).map((i) => `• ${(i.click || i.view || i.miniprogram || {}).content || ""}`), c.tail_content].filter(Boolean).join("\n");
  if (m.msgtype === "link") return `🔗 ${c.title || ""}\n${c.url || ""}`;
  return `[${m.msgtype}]`;
}

// "12.3 KB": a file's size as the page shows it.
function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// Pictures already shown, by msgid (one node per message: the same media may be sent
// twice): the thread is rebuilt on every change, and a new <img> each time would fetch
// and flicker.
const pictures = new Map();

// The file of a media message (the snapshot's MessageView.media): a picture, or its
// name and size with a link that downloads it.
function mediaNode(msgid, media) {
  const url = `/__emulator/media/${enc(media.media_id)}`;
  if (media.media_type === "image") {
    let picture = pictures.get(msgid);
    if (!picture) {
      picture = el("a", { href: url, target: "_blank", class: "picture-link" },
        el("img", { src: url, alt: media.filename, title: `${media.filename} · ${size(media.size)}`, class: "picture", dataset: { mediaId: media.media_id } }));
      pictures.set(msgid, picture);
    }
    return picture;
  }
  // Words, not emoji: a machine without an emoji font would show boxes.
  const kind = { voice: "语音 voice", video: "视频 video" }[media.media_type] || "文件 file";
  return el("a", {
    href: url, download: media.filename, class: "attachment",
    dataset: { mediaId: media.media_id, mediaType: media.media_type, size: String(media.size) },
  }, el("span", { class: "kind" }, `${kind} `), media.filename, el("span", { class: "size" }, ` · ${size(media.size)}`));
}

function renderThread(thread) {
  const box = $("thread");
  const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 30;
  if (!thread) {
    put(box, el("p", { class: "empty" }, "选择账号和客户 · pick an account and a customer"));
    renderSession(null);
    return;
  }
  const nickname = (S.snap.customers.find((c) => c.external_userid === S.customer) || {}).nickname;
  const kept = new Set(thread.messages.map((m) => m.msgid));
  for (const msgid of pictures.keys()) if (!kept.has(msgid)) pictures.delete(msgid);
  const rows = thread.messages.map((m) => {
    const who = m.origin === "customer" ? (nickname || "客户 customer")
      : m.origin === "app" ? "机器人 bot (API)"
      : m.origin === "servicer" ? `客服 ${m.servicer_userid}` : "";
    const cls = ["msg", m.origin, m.recalled ? "recalled" : "", m.delivered ? "" : "undelivered"].join(" ");
    return el("div", { class: cls, dataset: { msgid: m.msgid, origin: m.origin }, title: time(m.send_time) },
      m.origin === "event" ? null : el("span", { class: "who" }, who + (m.recalled ? " · 已撤回 recalled" : "") + (m.delivered ? "" : " · 未送达 rejected")),
      m.media ? mediaNode(m.msgid, m.media) : describe(m),
      m.origin === "customer" && !m.recalled ? el("a", { class: "recall", onclick: () => recall(m.msgid) }, " 撤回") : null);
  });
  put(box, 
    thread.earlier_messages ? el("p", { class: "empty" }, `… ${thread.earlier_messages} earlier`) : null,
    ...(rows.length ? rows : [el("p", { class: "empty" }, "还没有消息 no messages yet")]),
  );
  if (stick) box.scrollTop = box.scrollHeight;
  renderSession(thread);
}

function renderSession(thread) {
  const state = $("session-state");
  const win = $("window");
  const s = thread && thread.session;
  if (!s) {
    state.dataset.state = thread ? "4" : "";
    put(state, thread ? stateBadge(4) : "—", thread ? " 无会话 no session (4)" : "");
    win.textContent = "";
    win.dataset.open = "false";
  } else {
    state.dataset.state = String(s.state);
    put(state, stateBadge(s.state, s.state_zh), ` ${s.state_zh} ${s.state_en}`,
      s.servicer_userid ? ` · ${s.servicer_userid}` : "");
    const left = s.window_left_secs;
    win.dataset.open = String(left > 0);
    win.className = left > 0 ? "meta" : "meta closed";
    win.textContent = left > 0
      ? `48 小时发送窗口：剩余 ${Math.floor(left / 3600)} h ${Math.floor((left % 3600) / 60)} min · 还可发 ${s.sends_left} 条 · send window open, ${s.sends_left} sends left` +
        (s.api_may_send ? "" : " · API 当前状态不可发送 the API may not send in this state")
      : "48 小时发送窗口已关闭 · the 48 h send window has closed";
  }
  put($("moves"), 
    ...((thread && thread.moves) || []).map((m) =>
      el("li", {}, `${time(m.at)} `, stateBadge(m.from), " → ", stateBadge(m.to),
        m.servicer_userid ? ` ${m.servicer_userid}` : "", el("span", { class: "meta" }, ` · ${m.cause}`))),
  );
  const d = thread && thread.diagnosis;
  const box = $("diagnosis");
  box.hidden = !d;
  if (d) {
    put(box, el("strong", {}, `errcode ${d.errcode}`),
      el("span", { class: "meta" }, " · 按会话当前状态解释 explained from the session's state now "),
      el("a", { class: "dismiss", onclick: () => { S.diagnose = null; refresh("world"); } }, "✕"), el("br"),
      `原因 why: ${d.cause}`, el("br"), `怎么办 what to do: ${d.action}`);
  }
}

function bodyOf(c) {
  try { return JSON.parse(c.body); } catch { return null; }
}

function renderCalls() {
  const filter = $("errcode-filter").value.trim();
  const wanted = filter === "" ? null : Number(filter);
  const rows = [];
  for (let i = S.calls.length - 1; i >= 0 && rows.length < SHOWN_ROWS; i--) {
    const c = S.calls[i];
    if (wanted !== null && c.errcode !== wanted) continue;
    const body = bodyOf(c);
    const customer = body && (body.touser || body.external_userid);
    const link = diagnosed(c.errcode) && body && body.open_kfid && customer
      ? el("a", { class: "diagnose", onclick: () => diagnose(body.open_kfid, customer, c.errcode) }, " 诊断 diagnose")
      : null;
    rows.push(el("tr", { class: c.errcode ? "refused" : "", dataset: { errcode: c.errcode ?? "", id: c.id }, title: c.body },
      el("td", {}, clock(c.at_ms)),
      el("td", {}, `${c.method} ${c.path}`, c.query ? el("small", { class: "meta" }, `?${c.query}`) : null),
      el("td", {}, c.errcode ?? `HTTP ${c.status}`, link),
      el("td", { class: "errmsg" }, c.errcode ? c.errmsg : ""),
      el("td", {}, (c.latency_us / 1000).toFixed(1))));
  }
  put($("calls").tBodies[0], ...rows);
}

function renderDeliveries(list) {
  const lastOf = new Map();
  list.forEach((d, i) => lastOf.set(d.id, i));
  const rows = [];
  for (let i = list.length - 1; i >= 0 && rows.length < SHOWN_ROWS; i--) {
    const d = list[i];
    rows.push(el("tr", { class: d.delivered ? "" : "failed", dataset: { id: d.id, attempt: d.attempt, delivered: d.delivered } },
      el("td", {}, d.id, d.resend_of ? el("small", { class: "meta" }, ` ↻${d.resend_of}`) : null),
      el("td", {}, d.attempt),
      el("td", {}, d.open_kfid.slice(0, 14)),
      el("td", {}, d.status ?? "—"),
      el("td", {}, d.error || (d.delivered ? "ok" : "")),
      el("td", {}, d.elapsed_ms),
      el("td", {}, lastOf.get(d.id) === i
        ? el("button", { class: "resend", onclick: () => resend(d.id) }, "重发 Re-send") : null)));
  }
  put($("deliveries").tBodies[0], ...rows);
}

// ---- actions ----

function pick(account, customer) {
  S.account = account;
  S.customer = customer;
  S.diagnose = null;
  saveSelection();
  refresh("world");
}

function diagnose(account, customer, errcode) {
  S.account = account;
  S.customer = customer;
  S.diagnose = errcode;
  saveSelection();
  refresh("world");
  $("session-panel").scrollIntoView({ behavior: "smooth" });
}

async function act(work, done) {
  try {
    await work();
    notice(done || "", true);
    if (!done) notice("");
    refresh("world");
  } catch {
    // The notice already shows the API's own error.
  }
}

function needConversation() {
  if (!S.account || !S.customer) {
    notice("先选择账号和客户 · pick an account and a customer first");
    throw new Error("no conversation");
  }
  return { open_kfid: S.account, external_userid: S.customer };
}

async function sendFile(file) {
  const { open_kfid, external_userid } = needConversation();
  const limit = S.snap.customer_media_max_bytes;
  if (file.size === 0 || file.size > limit) {
    const why = file.size === 0 ? "文件为空 is empty" : `超过上限 is over the limit of ${limit} bytes`;
    notice(`media: ${file.name} ${why} (${file.size} bytes)`);
    throw new Error("file refused");
  }
  const form = new FormData();
  form.append("media", file, file.name);
  const up = await call("POST", `/__emulator/customers/${enc(external_userid)}/media`, form);
  await call("POST", `/__emulator/customers/${enc(external_userid)}/send`,
    { open_kfid, msgtype: up.type, [up.type]: { media_id: up.media_id } });
}

function recall(msgid) {
  act(() => call("POST", `/__emulator/customers/${enc(S.customer)}/recall`, { open_kfid: S.account, msgid }));
}

function setStatus(userid, status) {
  act(() => call("POST", `/__emulator/servicers/${enc(userid)}/status`, { open_kfid: S.account, status, stop_type: 0 }));
}

function resend(id) {
  act(() => call("POST", `/__emulator/callback/deliveries/${id}/resend`), `重发 re-sent delivery ${id}`);
  refresh("deliveries");
}

function servicer() {
  const userid = $("servicer-select").value;
  if (!userid) {
    notice("没有接待人员 · no servicer to act as");
    throw new Error("no servicer");
  }
  return userid;
}

function bind() {
  $("account-select").onchange = (e) => pick(e.target.value, S.customer);
  $("customer-select").onchange = (e) => pick(S.account, e.target.value || null);
  $("new-account").onclick = () => act(async () => {
    const a = await call("POST", "/__emulator/accounts", { name: $("new-account-name").value.trim() });
    S.account = a.open_kfid;
    $("new-account-name").value = "";
    saveSelection();
  });
  $("new-customer").onclick = () => act(async () => {
    const c = await call("POST", "/__emulator/customers", { nickname: $("new-customer-name").value.trim() });
    S.customer = c.external_userid;
    $("new-customer-name").value = "";
    saveSelection();
  });
  $("enter").onclick = () => act(async () => {
    const { open_kfid, external_userid } = needConversation();
    await call("POST", `/__emulator/customers/${enc(external_userid)}/enter`, { open_kfid, scene: $("scene").value.trim() });
  });
  const send = () => act(async () => {
    const { open_kfid, external_userid } = needConversation();
    const content = $("compose").value;
    await call("POST", `/__emulator/customers/${enc(external_userid)}/send`, { open_kfid, msgtype: "text", text: { content } });
    $("compose").value = "";
  });
  $("send").onclick = send;
  // Picking a file sends it, as WeChat does: uploaded as the customer's media, then
  // sent as a message of the type the emulator gave it (image, voice, video or file).
  $("compose-file").onchange = (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (file) act(() => sendFile(file), `已发送 sent ${file.name}`);
  };
  $("compose").onkeydown = (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(); } };
  $("take").onclick = () => act(() => call("POST", `/__emulator/servicers/${enc(servicer())}/take`, needConversation()));
  $("end").onclick = () => act(() => call("POST", `/__emulator/servicers/${enc(servicer())}/end`, needConversation()));
  $("transfer").onclick = () => act(() => call("POST", `/__emulator/servicers/${enc(servicer())}/transfer`,
    { ...needConversation(), to: $("transfer-to").value }));
  $("servicer-send").onclick = () => act(async () => {
    await call("POST", `/__emulator/servicers/${enc(servicer())}/send`,
      { ...needConversation(), msgtype: "text", text: { content: $("servicer-text").value } });
    $("servicer-text").value = "";
  });
  for (const b of document.querySelectorAll("[data-secs]")) {
    b.onclick = () => act(() => call("POST", "/__emulator/clock", { advance_secs: Number(b.dataset.secs) }),
      `时钟前进 clock advanced ${Number(b.dataset.secs) / 3600} h`);
  }
  let armed = null;
  $("reset").onclick = () => {
    if (!armed) {
      $("reset").textContent = "确认重置? Confirm";
      armed = setTimeout(() => { armed = null; $("reset").textContent = "重置 Reset"; }, 3000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    $("reset").textContent = "重置 Reset";
    act(async () => {
      await call("POST", "/__emulator/reset");
      S.calls = []; S.lastCall = 0; S.customer = null; S.account = null;
      refresh("calls", "deliveries");
    }, "已重置 reset");
  };
  $("errcode-filter").oninput = renderCalls;
  $("fault-add").onclick = () => act(() => call("POST", "/__emulator/faults", {
    kind: "errcode",
    errcode: Number($("fault-errcode").value),
    endpoint: $("fault-path").value.trim() || null,
    count: $("fault-times").value ? Number($("fault-times").value) : null,
  }));
  $("fault-clear").onclick = () => act(() => call("DELETE", "/__emulator/faults"));
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.onclick = () => {
      for (const t of document.querySelectorAll("[role=tab]")) {
        t.setAttribute("aria-selected", String(t === tab));
        $(`tab-${t.dataset.tab}`).hidden = t !== tab;
      }
    };
  }
}

function follow() {
  const live = new EventSource("/__emulator/console/live");
  // Give the connection back when the page goes: a browser holds six per host, and a
  // stream kept by a page left behind would starve the next one's requests.
  addEventListener("pagehide", () => live.close());
  live.onopen = () => { $("live").className = "on"; refresh("world", "calls", "deliveries"); };
  live.onerror = () => { $("live").className = "off"; };
  live.addEventListener("change", (e) => {
    const change = JSON.parse(e.data);
    const what = [];
    if (change.world) what.push("world");
    if (change.last_call !== S.lastCall) what.push("calls");
    if (change.deliveries) what.push("deliveries");
    refresh(...what);
  });
}

const saved = new URLSearchParams(location.hash.slice(1));
S.account = saved.get("kf");
S.customer = saved.get("c");
bind();
refresh("world", "calls", "deliveries");
follow();
