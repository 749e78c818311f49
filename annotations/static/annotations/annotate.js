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

  function start() {
    const f = form();
    if (!f || f === started) return;
    started = f;
    f.dataset.started = String(performance.now());
    f.querySelectorAll("input[type=range]").forEach((range) => {
      const out = range.parentElement.querySelector("output");
      const show = () => { range.name = range.dataset.name; if (out) out.textContent = range.value; };
      range.addEventListener("input", show);
      range.addEventListener("change", show);
    });
    setActive(0, false);
  }

  function toggleNote() {
    const note = form() && form().querySelector("details.content-note");
    if (note) note.open = !note.open;
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
    if (!form() || event.ctrlKey || event.metaKey || event.altKey) return;
    // A key can arrive between htmx swapping a new item in and its afterSwap event: set the item up
    // first, or the late set-up would send the next digits back to the first question.
    start();
    const target = event.target;
    const typing = target.matches("textarea, input[type=text], input[type=number]");
    if (typing) {
      // Esc leaves the text box so the shortcuts work again; every other key is typing.
      if (event.key === "Escape") { target.blur(); event.preventDefault(); }
      return;
    }
    const key = event.key;
    if (key === "?") { document.getElementById("keys").classList.toggle("open"); event.preventDefault(); return; }
    if (key === "o") { toggleNote(); event.preventDefault(); return; }
    // Enter on a focused button, link or content-note summary does what that element does (skip, open...).
    if (key === "Enter" && target.matches("button, a, summary")) return;
    if (key === "Enter") { event.preventDefault(); click("submit"); return; }
    if (key === "s") { event.preventDefault(); click("skip"); return; }
    if (key === "d") { event.preventDefault(); click("distressing"); return; }
    if (key === "ArrowDown" || key === "ArrowUp") {
      if (target.matches("input[type=range]")) return;
      event.preventDefault(); setActive(active + (key === "ArrowDown" ? 1 : -1), true); return;
    }
    if (/^[0-9]$/.test(key)) {
      const all = questions();
      if (!all.length) return;
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
  document.addEventListener("htmx:afterSwap", start);
  document.addEventListener("DOMContentLoaded", start);
})();
