// Small behaviours of the shared pages, kept out of the templates so the Content-Security-Policy can forbid
// inline scripts. Each one finds its elements by a data attribute or id, runs once per element, and runs again
// after every htmx swap (a completion code or a break page can arrive in a swapped fragment).
(function () {
  "use strict";

  function once(element, name) {
    if (element.dataset[name]) return false;
    element.dataset[name] = "1";
    return true;
  }

  // A code to copy (webapp/_code.html): the button appears only where JavaScript runs.
  function copyButtons(root) {
    root.querySelectorAll(".copy-code").forEach((button) => {
      if (!once(button, "copyReady")) return;
      button.hidden = false;
      button.addEventListener("click", async () => {
        const code = document.getElementById(button.dataset.copy).textContent;
        const done = button.parentElement.querySelector(".copy-done");
        // the words come from the page (webapp/_code.html), in its language
        try { await navigator.clipboard.writeText(code); done.textContent = done.dataset.copied || "Copied."; }
        catch (error) { done.textContent = done.dataset.copyByHand || "Select the code and copy it (Ctrl+C)."; }
      });
    });
  }

  // The forced break (annotations/stages.html): its end in the person's own time, and the minutes left.
  function breakCountdowns(root) {
    root.querySelectorAll("[data-break-until]").forEach((box) => {
      if (!once(box, "countdownReady")) return;
      const until = new Date(box.dataset.breakUntil);
      const time = box.querySelector("time");
      const clock = until.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      function tick() {
        const left = Math.max(0, Math.round((until - Date.now()) / 1000));
        const mm = Math.floor(left / 60), ss = String(left % 60).padStart(2, "0");
        // the words come from the page (data-in, data-now: "{clock}" and "{left}" filled in), in its language
        const words = left ? box.dataset.in || "{clock} your time (in {left})" : box.dataset.now || "{clock} your time (now)";
        time.textContent = words.replace("{clock}", clock).replace("{left}", `${mm}:${ss}`);
        if (left && box.isConnected) setTimeout(tick, 1000);
      }
      tick();
    });
  }

  // The import page (annotations/project_import.html): upload progress, and the refusal (422) shown in place.
  function importForms(root) {
    root.querySelectorAll("form[data-upload-progress]").forEach((form) => {
      if (!once(form, "progressReady")) return;
      const bar = document.getElementById(form.dataset.uploadProgress);
      form.addEventListener("htmx:xhr:progress", (event) => {
        if (!event.detail.lengthComputable) return;
        bar.hidden = false;
        bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
      });
    });
  }

  // A refused upload (422) carries the reasons: show them in place instead of dropping the answer.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const form = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (form && form.matches && form.matches("form[data-upload-progress]") && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function setUp(root) {
    copyButtons(root);
    breakCountdowns(root);
    importForms(root);
  }

  document.addEventListener("DOMContentLoaded", () => setUp(document));
  document.addEventListener("htmx:load", (event) => setUp(event.detail.elt));
})();
