// Upload forms with a progress bar. Without this script the forms post as usual; with it,
// the same form is sent by XMLHttpRequest so that the bar can show how much has gone, and
// the answer (the page after the redirect, or the form with its errors) replaces this one.
(function () {
  "use strict";
  function send(form, event) {
    var bar = form.querySelector(".upload-progress");
    if (!window.FormData || !bar) { return; }
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    bar.hidden = false;
    request.upload.addEventListener("progress", function (progress) {
      if (progress.lengthComputable) { bar.value = Math.round(100 * progress.loaded / progress.total); }
    });
    request.addEventListener("load", function () {
      if (request.responseURL && request.responseURL !== form.action) {
        window.history.replaceState(null, "", request.responseURL);
      }
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", function () { form.submit(); });
    form.querySelector("button[type=submit]").disabled = true;
    request.send(new FormData(form));
  }
  document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
    form.addEventListener("submit", function (event) { send(form, event); });
  });
}());
