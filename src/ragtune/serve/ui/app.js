// The ragtune web UI: plain JavaScript against the server's own API, no build step.
// Text from documents and answers is inserted as text nodes, never as HTML.
"use strict";
const ragtune = (() => {
  const KEY = "ragtune-key";
  const $ = (id) => document.getElementById(id);
  const key = () => sessionStorage.getItem(KEY);

  async function api(path, options = {}) {
    const headers = Object.assign({ Authorization: `Bearer ${key()}` }, options.headers || {});
    const response = await fetch(path, Object.assign({}, options, { headers }));
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`;
      try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
      const error = new Error(message); error.status = response.status; throw error;
    }
    return response;
  }

  async function whoami() {
    const me = await (await api("/me")).json();
    $("who").textContent = `${me.user}${me.groups.length ? " (" + me.groups.join(", ") + ")" : ""}${me.admin ? " · admin" : ""}`;
    return me;
  }

  // Server-sent events from a POST: yields {event, data} as blocks arrive.
  async function* events(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
        let event = "message"; const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
      }
    }
  }

  function showDocument(doc, start, end) {
    $("document").hidden = false;
    $("document-title").textContent = doc.source;
    const pre = $("document-text");
    pre.replaceChildren();
    const mark = document.createElement("mark");
    mark.textContent = doc.text.slice(start, end);
    pre.append(doc.text.slice(0, start), mark, doc.text.slice(end));
    mark.scrollIntoView({ block: "center" });
  }

  async function openCitation(target) {
    try {
      const doc = await (await api(`/documents/${encodeURIComponent(target.document_id)}`)).json();
      showDocument(doc, target.start, target.end);
    } catch (error) { $("answer-meta").textContent = `cannot open the source: ${error.message}`; }
  }

  function renderAnswer(answer) {
    const box = $("answer");
    box.replaceChildren();
    // The streamed text failed the citation check: replace it, and say so.
    const notice = $("answer-notice");
    notice.hidden = !(answer.rejected_text || answer.supported === false);
    notice.textContent = answer.rejected_text
      ? "The generated answer was not supported by the sources; this answer is quoted from them."
      : "Not supported by the sources: no source states what this answer says.";
    const byNumber = new Map();
    for (const c of answer.citations) if (!byNumber.has(c.number)) byNumber.set(c.number, c);
    const sourceOf = (n) => answer.sources.find((s) => s.number === n);
    let last = 0;
    for (const m of answer.answer.matchAll(/\[(\d+)\]/g)) {
      box.append(answer.answer.slice(last, m.index));
      const n = Number(m[1]);
      const citation = byNumber.get(n);
      const link = document.createElement("button");
      link.className = "cite"; link.textContent = m[0]; link.dataset.number = n;
      link.addEventListener("click", () => {
        if (citation) openCitation({ document_id: citation.document_id, start: citation.quote_start, end: citation.quote_end });
        else if (sourceOf(n)) openCitation(sourceOf(n));
      });
      box.append(link);
      last = m.index + m[0].length;
    }
    box.append(answer.answer.slice(last));
    const list = $("sources");
    list.replaceChildren();
    for (const s of answer.sources) {
      const item = document.createElement("li");
      item.textContent = `[${s.number}] ${s.source.split("/").pop()}${s.page ? " p. " + s.page : ""}`;
      item.addEventListener("click", () => openCitation(s));
      list.append(item);
    }
    const ms = answer.timings_ms.total ? `${Math.round(answer.timings_ms.total)} ms` : "";
    $("answer-meta").textContent = [answer.model, ms, `${answer.usage.prompt_tokens}+${answer.usage.completion_tokens} tokens`,
      ...answer.flags].filter(Boolean).join(" · ");
  }

  async function ask(question) {
    $("answer").textContent = ""; $("sources").replaceChildren(); $("document").hidden = true;
    $("answer-notice").hidden = true; $("answer-meta").textContent = "…";
    const response = await api("/ask", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question, stream: true }) });
    for await (const { event, data } of events(response)) {
      if (event === "delta") $("answer").append(data.text);
      else if (event === "answer") renderAnswer(data);
      else if (event === "error") throw new Error(data.message);
    }
  }

  function chatPage() {
    const signedIn = (me) => {
      $("sign-in").hidden = true; $("chat").hidden = false; $("sign-out").hidden = false;
      $("admin-link").hidden = !me.admin;
    };
    $("sign-in-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      sessionStorage.setItem(KEY, $("key").value.trim());
      try { signedIn(await whoami()); $("sign-in-error").textContent = ""; }
      catch (error) { sessionStorage.removeItem(KEY); $("sign-in-error").textContent = error.message; }
    });
    $("sign-out").addEventListener("click", () => { sessionStorage.removeItem(KEY); location.reload(); });
    $("ask-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      $("ask").disabled = true;
      try { await ask($("question").value); }
      catch (error) { $("answer-meta").textContent = `error: ${error.message}`; }
      finally { $("ask").disabled = false; }
    });
    if (key()) whoami().then(signedIn).catch(() => sessionStorage.removeItem(KEY));
  }

  async function listDocuments() {
    const body = (await (await api("/documents?limit=1000")).json()).documents;
    const rows = $("documents").tBodies[0];
    rows.replaceChildren();
    for (const d of body) {
      const tr = rows.insertRow();
      for (const v of [d.source.split("/").pop(), d.format, d.chunks]) tr.insertCell().textContent = v;
      const del = document.createElement("button");
      del.textContent = "delete";
      del.addEventListener("click", async () => { await api(`/documents/${encodeURIComponent(d.id)}`, { method: "DELETE" }); listDocuments(); });
      tr.insertCell().append(del);
    }
  }

  async function adminPage() {
    let me;
    try { me = await whoami(); } catch (error) { $("not-admin").hidden = false; return; }
    if (!me.admin) { $("not-admin").hidden = false; return; }
    $("upload").hidden = false;
    listDocuments();
    $("upload-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const form = new FormData();
      for (const file of $("files").files) form.append("files", file);
      form.append("groups", $("groups").value);
      form.append("users", $("users").value);
      $("upload-button").disabled = true; $("upload-error").textContent = "";
      try {
        const result = await (await api("/documents", { method: "POST", body: form })).json();
        const rows = $("results").tBodies[0];
        rows.replaceChildren();
        for (const s of result.report.sources) {
          const tr = rows.insertRow(); tr.className = s.status === "failed" ? "failed" : "ok";
          for (const v of [s.source, s.status, s.documents, s.chunks, s.reason || ""]) tr.insertCell().textContent = v;
        }
        listDocuments();
      } catch (error) { $("upload-error").textContent = error.message; }
      finally { $("upload-button").disabled = false; }
    });
  }

  return { chatPage, adminPage };
})();
