// annals default theme: progressive enhancement only. Pages work without it.
// - "Copy citation" copies the ready-to-paste citation.
// - A paragraph's ¶ link copies a pinpoint citation (the permanent URL with #anchor).
(function () {
  "use strict";
  function copy(text, button, done) {
    if (!navigator.clipboard) return;
    navigator.clipboard.writeText(text).then(function () {
      if (!button) return;
      var label = button.textContent;
      button.textContent = done;
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  }
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () { copy(target.textContent.trim(), button, "Copied"); });
  });
  var canonical = document.querySelector('link[rel="canonical"]');
  var citation = document.getElementById("citation-text");
  document.querySelectorAll("a.pin").forEach(function (pin) {
    pin.addEventListener("click", function () {
      if (!canonical) return;
      var anchor = pin.getAttribute("href");
      var url = canonical.href + anchor;
      var text = citation ? citation.textContent.trim().replace(canonical.href, url) + " (para. " + anchor.slice(2) + ")" : url;
      copy(text, null, "");
      pin.setAttribute("data-copied", "");
      setTimeout(function () { pin.removeAttribute("data-copied"); }, 1500);
    });
  });
})();
