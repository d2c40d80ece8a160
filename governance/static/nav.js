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
