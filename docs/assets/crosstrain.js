/* crosstrain: check widgets, lab progress bars, the progress page and the sandbox status.
 *
 * Talks to the JSON API that `crosstrain up` serves from the same origin (/api/...). Runs again
 * on every page Material's instant navigation loads (document$). Text from the API is always
 * inserted as text, never as HTML.
 */
(function () {
  "use strict";

  const OFFLINE =
    "The Check button needs the local server: run `crosstrain up` and open " +
    "http://127.0.0.1:8000.";

  class ApiError extends Error {
    constructor(message, status, data) {
      super(message);
      this.status = status;
      this.data = data;
    }
  }

  async function api(method, path, body) {
    const options = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch("/api/" + path, options);
    } catch (err) {
      throw new ApiError(OFFLINE, 0, {});
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (data === null && response.status >= 500) {
      const failed =
        `The local server failed (HTTP ${response.status}): the terminal running ` +
        "`crosstrain up` says why.";
      throw new ApiError(failed, response.status, {});
    }
    if (data === null) throw new ApiError(OFFLINE, response.status, {});
    if (!response.ok) {
      throw new ApiError(data.error || "HTTP " + response.status, response.status, data);
    }
    return data;
  }

  /* el("p", {class: "x"}, ["text", child]) */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) node.setAttribute(key, value);
    }
    for (const child of children || []) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const enc = encodeURIComponent;
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const LABELS = { passed: "Passed", failed: "Not yet", error: "Check error", skipped: "Skipped" };

  function overall(results) {
    if (results.every((r) => r.status === "passed")) return "passed";
    if (results.every((r) => r.status === "passed" || r.status === "skipped")) return "skipped";
    return results.some((r) => r.status === "error") ? "error" : "failed";
  }

  /* -- check widgets ------------------------------------------------------------------------ */

  function showMessage(widget, text, kind) {
    const box = widget.querySelector(".ct-check__result");
    box.hidden = false;
    box.replaceChildren(el("p", { class: "ct-check__note ct-check__note--" + kind }, [text]));
  }

  function showResults(widget, results) {
    const box = widget.querySelector(".ct-check__result");
    if (!results.length) {
      showMessage(widget, "This step has no checks.", "info");
      return;
    }
    const status = overall(results);
    const points = results.reduce((n, r) => n + r.points, 0);
    const max = results.reduce((n, r) => n + r.max_points, 0);
    widget.dataset.status = status;
    const items = results.map((r) => {
      const parts = [
        el("p", { class: "ct-check__saw" }, [el("strong", {}, ["What the check saw: "]), r.message]),
      ];
      if (r.hint) {
        parts.push(
          el("details", { class: "tip ct-check__hint" }, [
            el("summary", {}, ["Hint: what to do next"]),
            el("p", {}, [r.hint]),
          ]),
        );
      }
      return el("div", { class: "ct-check__item", "data-status": r.status }, parts);
    });
    box.hidden = false;
    box.replaceChildren(
      el("p", { class: "ct-check__summary" }, [
        el("span", { class: "ct-badge", "data-status": status }, [LABELS[status]]),
        ` ${points} / ${plural(max, "point")}`,
      ]),
      ...items,
    );
  }

  function showLast(widget, last) {
    if (!last || widget.dataset.status) return;
    widget.dataset.status = last.status;
    const box = widget.querySelector(".ct-check__result");
    box.hidden = false;
    box.replaceChildren(
      el("p", { class: "ct-check__summary" }, [
        el("span", { class: "ct-badge", "data-status": last.status }, [LABELS[last.status]]),
        ` ${last.points} / ${plural(last.max_points, "point")} at your last check`,
      ]),
    );
  }

  async function busy(buttons, label, work) {
    const texts = buttons.map((b) => b.textContent);
    buttons.forEach((b) => (b.disabled = true));
    if (label) buttons[0].textContent = label;
    try {
      return await work();
    } finally {
      buttons.forEach((b, i) => {
        b.disabled = false;
        b.textContent = texts[i];
      });
    }
  }

  async function checkStep(widget) {
    const { lab, step } = widget.dataset;
    const buttons = [...widget.querySelectorAll("button")];
    await busy(buttons, "Checking…", async () => {
      try {
        const report = await api("POST", `labs/${enc(lab)}/steps/${enc(step)}/check`, {});
        showResults(widget, report.results);
        renderProgress(lab, report.progress);
      } catch (err) {
        showMessage(widget, err.message, "error");
      }
    });
  }

  async function skipStep(widget) {
    const { lab, step } = widget.dataset;
    const title = widget.querySelector(".ct-check__title").textContent.replace(/^Check: /, "");
    const question =
      `Skip "${title}"?\n\nThe reference solution runs for every step up to this one, in the ` +
      `sandbox and in workspace/${lab}. You can still read how it was done in solutions/${lab}.`;
    if (!window.confirm(question)) return;
    const path = `labs/${enc(lab)}/steps/${enc(step)}/skip`;
    const buttons = [...widget.querySelectorAll("button")];
    const done = await busy(buttons, "Skipping…", async () => {
      try {
        await api("POST", path, {});
        return true;
      } catch (err) {
        if (err.status !== 409 || !(err.data.changed || []).length) {
          showMessage(widget, err.message, "error");
          return false;
        }
        const files = err.data.changed.join("\n  ");
        const again =
          `Skipping replaces files you changed:\n  ${files}\n\n` +
          `They are backed up to workspace/.backups first. Replace them?`;
        if (!window.confirm(again)) return false;
        try {
          await api("POST", path, { replace_changed: true });
          return true;
        } catch (err2) {
          showMessage(widget, err2.message, "error");
          return false;
        }
      }
    });
    if (done) await checkStep(widget);
  }

  /* -- a lab's header: progress, check all, reset, JupyterLab -------------------------------- */

  function renderProgress(lab, progress) {
    if (!progress) return;
    const selector = `.ct-progress[data-lab="${CSS.escape(lab)}"]`;
    for (const node of document.querySelectorAll(selector)) {
      const max = progress.max_points || 0;
      const done = (progress.steps_done || []).length;
      const skipped = (progress.steps_skipped || []).length;
      node.replaceChildren(
        el("progress", { max: String(max || 1), value: String(progress.points || 0) }),
        el("span", { class: "ct-progress__label" }, [
          `${progress.points || 0} / ${plural(max, "point")} · ${done} of ` +
            `${plural(progress.steps || 0, "step")} done` +
            (skipped ? ` (${skipped} skipped)` : ""),
        ]),
      );
      node.dataset.points = String(progress.points || 0);
      node.dataset.done = String(done);
    }
  }

  async function checkLab(header) {
    const lab = header.dataset.lab;
    const buttons = [...header.querySelectorAll("button")];
    await busy(buttons, "Checking…", async () => {
      try {
        const report = await api("POST", `labs/${enc(lab)}/check`, {});
        for (const widget of document.querySelectorAll(".ct-check")) {
          const mine = report.results.filter((r) => r.step === widget.dataset.step);
          if (widget.dataset.lab === lab && mine.length) showResults(widget, mine);
        }
        renderProgress(lab, report.progress);
      } catch (err) {
        window.alert(err.message);
      }
    });
  }

  async function resetLab(header) {
    const lab = header.dataset.lab;
    const question =
      `Reset ${lab}?\n\nThis removes the lab's resources from the sandbox and restores the ` +
      `starter files in workspace/${lab}. Your files are backed up to workspace/.backups first.`;
    if (!window.confirm(question)) return;
    const buttons = [...header.querySelectorAll("button")];
    await busy(buttons, null, async () => {
      try {
        const answer = await api("POST", `labs/${enc(lab)}/reset`, {});
        for (const widget of document.querySelectorAll(`.ct-check[data-lab="${CSS.escape(lab)}"]`)) {
          delete widget.dataset.status;
          showMessage(widget, "Lab reset: check this step again when you have done it.", "info");
        }
        renderProgress(lab, answer.progress);
      } catch (err) {
        window.alert(err.message);
      }
    });
  }

  function linkJupyter(sandbox) {
    const jupyter = sandbox && sandbox.jupyter;
    if (!jupyter) return;
    // A workbench terminal: crosstrain, aws and awslocal on the PATH, wired to the sandbox.
    for (const link of document.querySelectorAll(".ct-lab__terminal")) {
      if (!jupyter.terminal) continue;
      link.href = jupyter.terminal;
      link.target = "_blank";
      link.rel = "noopener";
      link.hidden = false;
    }
    for (const link of document.querySelectorAll(".ct-lab__jupyter")) {
      const lab = link.closest(".ct-lab").dataset.lab;
      const notebook = link.dataset.notebook;
      const path = notebook ? `${enc(lab)}/${notebook.split("/").map(enc).join("/")}` : enc(lab);
      const url = new URL(`lab/tree/${path}`, jupyter.base);
      if (jupyter.token) url.searchParams.set("token", jupyter.token);
      link.href = url.href;
      link.target = "_blank";
      link.rel = "noopener";
      link.hidden = false;
      // The lab's folder (and its notebook) must exist before JupyterLab can open it.
      link.addEventListener("click", async (event) => {
        event.preventDefault();
        await api("POST", `labs/${enc(lab)}/start`, {}).catch(() => null);
        window.open(link.href, "_blank", "noopener");
      });
    }
  }

  function renderSandboxStatus(node, sandbox) {
    const parts = sandbox.running
      ? [el("span", { class: "ct-badge", "data-status": "passed" }, ["Sandbox running"]),
         ` at ${sandbox.endpoint}`]
      : [el("span", { class: "ct-badge", "data-status": "failed" }, ["Sandbox not answering"]),
         ` ${sandbox.error || ""}`];
    if (sandbox.jupyter) {
      parts.push(" · ", el("a", { href: sandbox.jupyter.url, target: "_blank", rel: "noopener" },
        ["Open JupyterLab"]));
      if (sandbox.jupyter.terminal) {
        parts.push(" · ", el("a", { href: sandbox.jupyter.terminal, target: "_blank",
          rel: "noopener" }, ["Open a terminal"]));
      }
    }
    node.replaceChildren(el("p", {}, parts));
  }

  /* -- the progress page -------------------------------------------------------------------- */

  function renderProgressPage(node, labs) {
    if (!labs.length) {
      node.replaceChildren(el("p", {}, ["No labs yet."]));
      return;
    }
    const rows = labs.map((lab) => {
      const p = lab.progress;
      const bar = el("div", { class: "ct-progress", "data-lab": lab.id }, []);
      return el("tr", { "data-lab": lab.id }, [
        el("td", {}, [lab.url ? el("a", { href: lab.url }, [`${lab.id.slice(0, 2)} · ${lab.title}`])
                              : lab.title]),
        el("td", {}, [`${lab.minutes} min`]),
        el("td", {}, [bar]),
        el("td", {}, [p.last_run ? p.last_run.replace("T", " ").slice(0, 16) : "not started"]),
      ]);
    });
    const total = labs.reduce((n, l) => n + l.progress.points, 0);
    const max = labs.reduce((n, l) => n + l.progress.max_points, 0);
    node.replaceChildren(
      el("p", { class: "ct-progress-page__total" }, [
        `${total} / ${plural(max, "point")} across ${plural(labs.length, "lab")}.`,
      ]),
      el("table", {}, [
        el("thead", {}, [el("tr", {}, ["Lab", "Time", "Progress", "Last check"].map(
          (h) => el("th", {}, [h])))]),
        el("tbody", {}, rows),
      ]),
    );
    for (const lab of labs) renderProgress(lab.id, lab.progress);
  }

  /* -- wiring -------------------------------------------------------------------------------- */

  async function init() {
    const widgets = [...document.querySelectorAll(".ct-check")];
    const headers = [...document.querySelectorAll(".ct-lab")];
    const bars = document.querySelectorAll(".ct-progress[data-lab]");
    const page = document.querySelector("[data-progress-page]");
    const status = document.querySelector("[data-sandbox-status]");

    for (const widget of widgets) {
      widget.querySelector(".ct-check__run").addEventListener("click", () => checkStep(widget));
      widget.querySelector(".ct-check__skip").addEventListener("click", () => skipStep(widget));
    }
    for (const header of headers) {
      header.querySelector(".ct-lab__check").addEventListener("click", () => checkLab(header));
      header.querySelector(".ct-lab__reset").addEventListener("click", () => resetLab(header));
    }

    // Ask for progress and the sandbox at once; render each as it arrives.
    const wantsSandbox = headers.length || status;
    const sandbox = wantsSandbox
      ? api("GET", "sandbox").then((info) => ({ info }), (error) => ({ error }))
      : null;
    if (page) {
      try {
        renderProgressPage(page, (await api("GET", "labs")).labs);
      } catch (err) {
        /* the static page already says the server is needed */
      }
    } else if (bars.length || widgets.length) {
      try {
        const progress = await api("GET", "progress");
        for (const [lab, p] of Object.entries(progress.labs)) renderProgress(lab, p);
        for (const widget of widgets) {
          const lab = progress.labs[widget.dataset.lab];
          showLast(widget, lab && lab.step_results[widget.dataset.step]);
        }
      } catch (err) {
        for (const widget of widgets) widget.dataset.offline = "true";
      }
    }
    document.body.dataset.crosstrainReady = "true"; // widgets wired, progress shown
    if (sandbox) {
      const { info } = await sandbox;
      if (info) {
        linkJupyter(info);
        if (status) renderSandboxStatus(status, info);
      } else if (status) {
        status.replaceChildren(el("p", { class: "ct-offline" }, [OFFLINE]));
      }
    }
  }

  if (typeof window.document$ !== "undefined") {
    window.document$.subscribe(() => {
      delete document.body.dataset.crosstrainReady;
      init();
    });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
