// Keyboard-first annotation: digits pick points on the highlighted question, Enter submits, s skips,
// d skips as distressing, o opens or folds a content note, Esc leaves a text box, ? toggles the key list.
// Records time on item. Works after each htmx swap (each new item form is set up once).
(function () {
  "use strict";
  let active = 0;
  let started = null; // the item form start() last set up; a new one (after a swap) needs setting up

  function form() { return document.getElementById("item-form"); }
  function questions() { const f = form(); return f ? Array.from(f.querySelectorAll("fieldset.dimension")) : []; }

  function setActive(index, focus) {
    const all = questions();
    if (!all.length) return;
    active = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((q, i) => q.classList.toggle("active", i === active));
    if (focus) {
      all[active].scrollIntoView({ block: "nearest" });
      const input = all[active].querySelector("input:checked, input, textarea");
      if (input) input.focus({ preventScroll: true });
    }
  }

  function firstUnanswered() {
    const all = questions();
    const index = all.findIndex((q) => q.querySelector("input[type=radio]") && !q.querySelector("input:checked"));
    return index === -1 ? 0 : index;
  }

  function sliderShow(range) {
    range.name = range.dataset.name;
    range.setAttribute("aria-valuetext", range.value);
    const out = range.closest(".slider").querySelector("output");
    if (out) out.textContent = range.value;
  }

  function start() {
    const f = form();
    if (!f || f === started) return;
    started = f;
    f.dataset.started = String(performance.now());
    // The number box answers a slider without JavaScript; with it, the slider does (and only once moved).
    f.querySelectorAll(".slider-fallback").forEach((box) => box.remove());
    f.querySelectorAll(".slider").forEach((wrap) => { wrap.hidden = false; });
    f.querySelectorAll("input[type=range]").forEach((range) => {
      range.addEventListener("input", () => sliderShow(range));
      range.addEventListener("change", () => sliderShow(range));
      // a click on the midpoint of an untouched slider changes no value, yet it is an answer
      range.addEventListener("click", () => sliderShow(range));
    });
    setActive(0, false);
  }

  function afterSwap() {
    const swappedIn = form() !== started;
    start();
    if (!swappedIn) return;
    const f = form();
    const invalid = f.querySelector("fieldset.has-error");
    const announcer = document.getElementById("announcer");
    if (invalid) {
      // a question in error is shown even inside a folded content note: the person already opened it to answer
      const note = invalid.closest("details");
      if (note) note.open = true;
      setActive(questions().indexOf(invalid), true);
      return; // the error summary is an alert: it is announced as it arrives
    }
    const card = document.getElementById("item-card");
    if (card) card.focus({ preventScroll: true });
    const progress = f.querySelector("#progress-text");
    // the words come from the page (annotate.html), in its language
    const next = (announcer && announcer.dataset.nextItem) || "Next item.";
    if (announcer) announcer.textContent = next + " " + (progress ? progress.textContent : "");
  }

  function toggleNote() {
    const note = form() && form().querySelector("details.content-note");
    if (note) note.open = !note.open;
  }

  // The flag-or-comment box: opened and its first control focused, so the keyboard goes on from there.
  function openItemNote() {
    const note = document.getElementById("q-note");
    if (!note) return;
    note.open = true;
    note.querySelector("select").focus();
  }

  function click(value) {
    const button = form() && form().querySelector(`button[name=action][value=${value}]`);
    if (button && !button.disabled) button.click();
  }

  document.addEventListener("submit", (event) => {
    const f = event.target;
    if (f.id !== "item-form") return;
    const seconds = (performance.now() - Number(f.dataset.started || performance.now())) / 1000;
    f.querySelector("input[name=seconds]").value = seconds.toFixed(2);
  }, true);

  document.addEventListener("keydown", (event) => {
    if (!form()) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); click("submit"); return; }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    // A key can arrive between htmx swapping a new item in and its afterSwap event: set the item up
    // first, or the late set-up would send the next digits back to the first question.
    start();
    const target = event.target;
    const typing = target.matches("textarea, input[type=text], input[type=number], select");
    if (typing) {
      // Esc leaves the text box so the shortcuts work again; Enter submits (Shift+Enter is a new line in a
      // text box; a number box submits on Enter by itself); every other key is typing.
      if (event.key === "Escape") { target.blur(); event.preventDefault(); }
      if (event.key === "Enter" && !event.shiftKey && target.matches("textarea")) {
        event.preventDefault(); click("submit");
      }
      return;
    }
    const key = event.key;
    if (key === "?") { document.getElementById("keys").classList.toggle("open"); event.preventDefault(); return; }
    if (key === "o") { toggleNote(); event.preventDefault(); return; }
    if (key === "n") { openItemNote(); event.preventDefault(); return; }
    // Enter on a focused button, link or content-note summary does what that element does (skip, open...).
    if (key === "Enter" && target.matches("button, a, summary")) return;
    if (key === "Enter") { event.preventDefault(); click("submit"); return; }
    if (key === "s") { event.preventDefault(); click("skip"); return; }
    if (key === "d") { event.preventDefault(); click("distressing"); return; }
    if (key === "ArrowDown" || key === "ArrowUp") {
      if (target.matches("input[type=range]")) return;
      event.preventDefault(); setActive(active + (key === "ArrowDown" ? 1 : -1), true); return;
    }
    if (/^[-.]$/.test(key)) { // a number box's first character need not be a digit
      const box = questions().length && questions()[active].querySelector("input[type=number]");
      if (box) box.focus(); // focused during keydown, the box receives the character itself
      return;
    }
    if (/^[0-9]$/.test(key)) {
      const all = questions();
      if (!all.length) return;
      const range = all[active].querySelector("input[type=range]");
      if (range) { // 0-9 jump to 0-90 % of the scale, on its step; arrows then fine-tune
        event.preventDefault();
        const min = Number(range.min), max = Number(range.max), step = Number(range.step) || 1;
        range.value = String(min + Math.round(((max - min) * Number(key)) / 10 / step) * step);
        range.focus({ preventScroll: true });
        range.dispatchEvent(new Event("input", { bubbles: true }));
        return;
      }
      const box = all[active].querySelector("input[type=number]");
      if (box) { box.focus(); return; } // focused during keydown, the box receives the digit itself
      const radio = all[active].querySelector(`.scale label[data-key="${key}"]`);
      if (radio) {
        event.preventDefault();
        const input = radio.querySelector("input");
        input.checked = true;
        input.dispatchEvent(new Event("change", { bubbles: true }));
        setActive(active + 1 < all.length ? active + 1 : firstUnanswered(), true);
      }
    }
  });

  document.addEventListener("focusin", (event) => {
    const fieldset = event.target.closest && event.target.closest("fieldset.dimension");
    if (fieldset) setActive(questions().indexOf(fieldset), false);
  });
  // A rejected item (422) comes back with its answers and errors: show it instead of dropping it.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status === 422) { event.detail.shouldSwap = true; event.detail.isError = false; }
  });
  // after settling: htmx keeps the old attributes of elements whose id is in both items until then
  document.addEventListener("htmx:afterSettle", afterSwap);
  document.addEventListener("DOMContentLoaded", start);
  // a page restored from the back-forward cache shows an item already answered: fetch the current one
  window.addEventListener("pageshow", (event) => { if (event.persisted) window.location.reload(); });
})();
