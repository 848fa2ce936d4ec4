// Upload page: send the chosen files in chunks (each request stays small; the server streams them to disk),
// start the lint job, poll its progress, then open the results. Without JavaScript the form posts normally.
(function () {
  "use strict";
  var PARALLEL = 4;

  function $(id) { return document.getElementById(id); }
  // The session's CSRF token, rendered by the server into <meta name="csrf-token">; every POST/PUT sends it.
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function showError(message) {
    var box = $("upload-error");
    if (!box) { alert(message); return; }
    box.textContent = message;
    box.hidden = false;
    box.focus && box.focus();
  }
  function bytesLabel(n) {
    if (n >= 1048576) { return (n / 1048576).toFixed(1) + " MB"; }
    if (n >= 1024) { return (n / 1024).toFixed(0) + " KB"; }
    return n + " bytes";
  }
  async function problem(response) {
    try {
      var body = await response.json();
      if (body.issue && body.issue[0]) { return body.issue[0].diagnostics || body.issue[0].details.text; }
      if (body.detail) { return String(body.detail); }
    } catch (e) { /* not JSON */ }
    return "the server answered " + response.status;
  }

  function setProgress(label, value, max, text) {
    $("progress-panel") && ($("progress-panel").hidden = false);
    $("progress-label").textContent = label;
    var bar = $("progress-bar");
    bar.max = max || 1;
    bar.value = value;
    $("progress-text").textContent = text;
  }

  async function poll(jobId, onDone) {
    for (;;) {
      var response = await fetch("/workbench/jobs/" + jobId, { headers: { Accept: "application/json" } });
      if (!response.ok) { showError("Progress unavailable: " + (await problem(response))); return; }
      var st = await response.json();
      setProgress(st.state === "running" ? "Linting…" : st.state, st.done, st.total,
        st.done + " of " + st.total + " files linted" + (st.current ? " (" + st.current + ")" : ""));
      if (st.state === "done") { onDone(); return; }
      if (st.state === "failed") { showError("The job failed: " + st.message); return; }
      await new Promise(function (r) { setTimeout(r, 400); });
    }
  }

  var jobPanel = $("job-progress");
  if (jobPanel) {  // results page while the job still runs: replace the meta refresh with polling
    var meta = document.querySelector('meta[http-equiv="refresh"]');
    if (meta) { meta.remove(); }
    poll(jobPanel.dataset.job, function () { window.location.reload(); });
    return;
  }

  var form = $("upload-form");
  if (!form) { return; }
  var input = $("files");
  var zone = $("dropzone");
  var maxFiles = Number(form.dataset.maxFiles), maxBytes = Number(form.dataset.maxBytes);
  var chunkBytes = Number(form.dataset.chunkBytes);

  function describe() {
    var files = input.files, total = 0;
    for (var i = 0; i < files.length; i++) { total += files[i].size; }
    $("file-list").textContent = files.length ? files.length + " file(s) chosen, " + bytesLabel(total) : "";
  }
  input.addEventListener("change", describe);
  ["dragenter", "dragover"].forEach(function (t) {
    zone.addEventListener(t, function (ev) { ev.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    zone.addEventListener(t, function () { zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (ev) {
    ev.preventDefault();
    if (ev.dataTransfer && ev.dataTransfer.files.length) { input.files = ev.dataTransfer.files; describe(); }
  });

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    $("upload-error").hidden = true;
    var files = Array.prototype.slice.call(input.files);
    if (!files.length) { showError("Choose at least one file."); return; }
    var total = files.reduce(function (s, f) { return s + f.size; }, 0);
    if (files.length > maxFiles) {
      showError(files.length + " files chosen: the limit is " + maxFiles + " files per upload. Zip them or upload in parts.");
      return;
    }
    if (total > maxBytes) {
      showError("The files add up to " + bytesLabel(total) + ": the limit is " + bytesLabel(maxBytes) + " per upload.");
      return;
    }
    var button = $("submit");
    button.disabled = true;
    try {
      var created = await fetch("/workbench/jobs", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({
          profile: $("profile").value,
          context: $("context").value || null,
          files: files.map(function (f) { return { name: f.webkitRelativePath || f.name, size: f.size }; })
        })
      });
      if (!created.ok) { showError(await problem(created)); return; }
      var job = await created.json();
      var sent = 0, next = 0;
      setProgress("Uploading…", 0, total, "0 of " + bytesLabel(total) + " uploaded");
      async function sendFile(index) {
        var file = files[index], offset = 0, url = "/workbench/jobs/" + job.id + "/files/" + index;
        do {
          var chunk = file.slice(offset, offset + chunkBytes);
          var r = await fetch(url + "?offset=" + offset, { method: "PUT", body: chunk, headers: { "Content-Type": "application/octet-stream", "X-CSRF-Token": csrfToken() } });
          if (!r.ok) { throw new Error(file.name + ": " + (await problem(r))); }
          offset += chunk.size;
          sent += chunk.size;
          setProgress("Uploading…", sent, total, bytesLabel(sent) + " of " + bytesLabel(total) + " uploaded");
        } while (offset < file.size);
      }
      async function worker() {
        while (next < files.length) { await sendFile(next++); }
      }
      var workers = [];
      for (var w = 0; w < Math.min(PARALLEL, files.length); w++) { workers.push(worker()); }
      await Promise.all(workers);
      var started = await fetch("/workbench/jobs/" + job.id + "/start", { method: "POST", headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() } });
      if (!started.ok) { showError(await problem(started)); return; }
      await poll(job.id, function () { window.location.href = "/jobs/" + job.id; });
    } catch (e) {
      showError("Upload failed: " + e.message);
    } finally {
      button.disabled = false;
    }
  });
})();
