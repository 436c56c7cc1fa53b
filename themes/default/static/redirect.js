// Alias pages: go to the document's permanent URL, keeping the #fragment
// (a pinpoint citation such as #p4.2), which a meta refresh would drop.
(function () {
  "use strict";
  var target = document.documentElement.getAttribute("data-target");
  if (target) window.location.replace(target + window.location.hash);
})();
