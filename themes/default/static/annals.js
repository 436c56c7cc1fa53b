// annals default theme: progressive enhancement only. Pages work without it.
// - "Copy citation" copies the ready-to-paste citation.
// - A paragraph's ¶ link copies a pinpoint citation (the permanent URL with #anchor).
(function () {
  "use strict";
  // Calls `copied` only once the text is on the clipboard: nothing is
  // confirmed where the clipboard cannot be written (an insecure origin).
  function copy(text, copied) {
    if (!navigator.clipboard) return;
    navigator.clipboard.writeText(text).then(copied, function () {});
  }
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(target.textContent.trim(), function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
  var canonical = document.querySelector('link[rel="canonical"]');
  var citation = document.getElementById("citation-text");
  document.querySelectorAll("a.pin").forEach(function (pin) {
    pin.addEventListener("click", function () {
      if (!canonical) return;
      var anchor = pin.getAttribute("href");
      var url = canonical.href + anchor;
      // "para." only for the source's own numbers (`4.2.`); a running anchor
      // (#p4) is the archive's, and its URL says all there is.
      var label = pin.hasAttribute("data-numbered") ? " (para. " + anchor.slice(2) + ")" : "";
      var text = citation ? citation.textContent.trim().replace(canonical.href, url) + label : url;
      copy(text, function () {
        pin.setAttribute("data-copied", "");
        setTimeout(function () { pin.removeAttribute("data-copied"); }, 1500);
      });
    });
  });
})();
