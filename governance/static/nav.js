// Folds the main navigation behind a "Menu" button on narrow screens. Without JavaScript the
// links simply wrap onto several lines (app.css), so nothing depends on this file.
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
