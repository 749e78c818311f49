// Keyboard for the judging page: 1 = left reply, 2 = right reply, 0 = tie, answering the first
// unanswered question; when every question is answered and no reason is still required, submits.
(function () {
  function unanswered(form) {
    return Array.from(form.querySelectorAll("fieldset.criterion")).filter(function (set) {
      return !set.querySelector("input[type=radio]:checked");
    });
  }
  // Strength and reasons need the mouse or Tab; only a form with nothing more to fill submits itself.
  function ready(form) {
    return !unanswered(form).length && !form.querySelector("select[name^=strength_], textarea[required]");
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" && target.type === "text" || target.tagName === "SELECT")) return;
    if (["0", "1", "2"].indexOf(event.key) < 0) return;
    var form = document.querySelector("form.judge");
    if (!form) return;
    var open = unanswered(form);
    if (!open.length) return;
    var radio = open[0].querySelector("input[type=radio][value='" + event.key + "']");
    if (!radio) return;
    event.preventDefault();
    radio.checked = true;
    var next = unanswered(form)[0];
    if (next) { next.scrollIntoView({block: "nearest"}); return; }
    if (ready(form)) { form.requestSubmit(); }
  });
})();
