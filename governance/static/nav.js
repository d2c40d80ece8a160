// The site's one script: each part enhances a page that works without it.
// The main navigation folds behind a "Menu" button on narrow screens. Without JavaScript the
// links simply wrap onto several lines (app.css).
(function () {
  var nav = document.querySelector(".site-header nav");
  var toggle = nav && nav.querySelector(".nav-toggle");
  if (!toggle) return;
  nav.classList.add("collapsible", "collapsed");
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    var collapsed = nav.classList.toggle("collapsed");
    toggle.setAttribute("aria-expanded", String(!collapsed));
  });
})();

// An irreversible step asks first. Without JavaScript its form carries a box to tick ("I
// understand this cannot be undone") that the server checks; with it, the box gives way to
// a dialog that says the same and ticks it when the person goes ahead.
(function () {
  if (typeof HTMLDialogElement !== "function") return;
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    var box = form.querySelector("[data-confirm-box]");
    var tick = box && box.querySelector("input[type=checkbox]");
    var what = box && box.querySelector(".hint");
    var go = form.querySelector("button[type=submit]");
    if (!tick || !what || !go || box.classList.contains("has-error")) return;
    box.hidden = true;
    var dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", tick.id + "-dialog-title");
    var title = document.createElement("h2");
    title.id = tick.id + "-dialog-title";
    title.textContent = form.getAttribute("data-confirm");
    var text = document.createElement("p");
    text.textContent = what.textContent;
    var buttons = document.createElement("div");
    buttons.className = "actions";
    var yes = document.createElement("button");
    yes.type = "button";
    yes.textContent = go.textContent;
    var no = document.createElement("button");
    no.type = "button";
    no.className = "secondary";
    no.textContent = "Go back";
    buttons.append(yes, no);
    dialog.append(title, text, buttons);
    document.body.append(dialog);
    form.addEventListener("submit", function (event) {
      if (tick.checked) return;
      event.preventDefault();
      dialog.showModal();
      no.focus();
    });
    no.addEventListener("click", function () { dialog.close(); go.focus(); });
    yes.addEventListener("click", function () {
      tick.checked = true;
      dialog.close();
      form.submit();
    });
  });
})();

// A refused form is shown again on its page, at the page's own address (the POST is answered
// with a redirect there, Post/Redirect/Get, no script needed). The error summary takes the
// focus, as the GOV.UK pattern asks.
(function () {
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
})();

// A long text's "Preview" button: without JavaScript it opens the preview in a new tab; here
// it asks the same route for the rendered HTML and shows it under the field instead.
(function () {
  var buttons = document.querySelectorAll("button[data-preview-for]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.addEventListener("click", function (event) {
      var form = button.form;
      var shown = document.getElementById(button.value + "-preview");
      if (!form || !shown || !window.fetch) return;
      event.preventDefault();
      var data = new FormData(form);
      data.set("preview_field", button.value);
      fetch(button.formAction + "?fragment=1", { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(); })
        .then(function (html) {
          shown.innerHTML = html || "<p>Nothing to preview yet.</p>";
          shown.hidden = false;
        })
        .catch(function () { form.target = "_blank"; });
    });
  });
})();

