// Keyboard for the judging page. 1 = left reply, 2 = right reply, 0 = about the same, each answering the first
// unanswered question. Once every question has a choice, the focus moves to whatever is still needed (a
// "how much better" list, a required reason); when nothing is, the form submits itself. Ctrl+Enter (or Enter in
// a reason box) submits from anywhere on the page, or says what still needs an answer and moves there.
(function () {
  function criteria(form) { return Array.from(form.querySelectorAll("fieldset.criterion")); }
  function unanswered(form) {
    return criteria(form).filter(function (set) { return !set.querySelector("input[type=radio]:checked"); });
  }
  // A strength list matters only when a reply was chosen (not "about the same"); a required reason always.
  function stillNeeded(form) {
    for (var set of criteria(form)) {
      var choice = set.querySelector("input[type=radio]:checked");
      var strength = set.querySelector("select[name^=strength_]");
      if (strength && choice && choice.value !== "0" && !strength.value) return strength;
      var reason = set.querySelector("textarea[required]");
      if (reason && !reason.value.trim()) return reason;
    }
    return null;
  }
  // Says, where a screen reader hears it too, what still needs an answer before the form can go on.
  function tell(form, text) {
    var box = form.querySelector(".judge-feedback");
    if (box) box.textContent = text;
  }
  // The page's own words for these messages (studies/_slot.html), in the study's language.
  function words(form, name, english) {
    var box = form.querySelector(".judge-feedback");
    return (box && box.dataset[name]) || english;
  }
  function advance(form) {
    var next = unanswered(form)[0];
    if (next) {
      next.scrollIntoView({block: "nearest"});
      var first = next.querySelector("input[type=radio]");
      if (first) first.focus();
      tell(form, words(form, "answerFirst", "Please answer first:") + " " + next.querySelector("legend").textContent.trim());
      return;
    }
    var needed = stillNeeded(form);
    if (needed) {
      needed.scrollIntoView({block: "center"}); needed.focus();
      tell(form, needed.tagName === "SELECT" ? words(form, "howMuch", "Please say how much better the reply is.")
                                             : words(form, "reason", "Please write a short reason."));
      return;
    }
    tell(form, "");
    form.requestSubmit();
  }
  document.addEventListener("keydown", function (event) {
    var form = document.querySelector("form.judge");
    if (!form) return;
    var target = event.target;
    var typing = target && (target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
                            (target.tagName === "INPUT" && target.type === "text"));
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey || (form.contains(target) &&
        ((target.tagName === "TEXTAREA" && !event.shiftKey) || target.tagName === "SELECT")))) {
      event.preventDefault();
      advance(form);
      return;
    }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    if (["0", "1", "2"].indexOf(event.key) < 0) return;
    var open = unanswered(form);
    if (!open.length) return;
    var radio = open[0].querySelector("input[type=radio][value='" + event.key + "']");
    if (!radio) return;  // e.g. 0 where ties are not allowed
    event.preventDefault();
    radio.checked = true;
    advance(form);
  });
  // A new pair arrives by htmx: start reading it from the top, with the focus on the page, not the old button.
  document.addEventListener("htmx:afterSwap", function () {
    var slot = document.getElementById("slot");  // the only thing this page swaps
    if (!slot) return;
    slot.setAttribute("tabindex", "-1");
    slot.focus({preventScroll: true});
    window.scrollTo(0, 0);
  });
})();
