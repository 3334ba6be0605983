// Instance list (admins): "select all on this page" for batch operations, and confirmation of
// buttons that carry data-confirm. Loaded as a file (the pages' CSP allows no inline script).
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      var boxes = document.querySelectorAll('input[name="selected"]');
      for (var i = 0; i < boxes.length; i += 1) { boxes[i].checked = all.checked; }
    });
  }
}());
