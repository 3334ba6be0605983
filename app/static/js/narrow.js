// On a phone (as narrow as the stylesheet's phone layout) the context of a task page starts folded,
// so the form comes first; on a desk, and without this script, it stays open.
(function () {
  "use strict";
  if (window.matchMedia && window.matchMedia("(max-width: 760px)").matches) {
    document.querySelectorAll("details[data-fold-narrow]").forEach(function (details) {
      details.open = false;
    });
  }
}());
