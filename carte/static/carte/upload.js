// Upload progress for forms posted with htmx (the catalogue import); without this file
// the form posts normally. No inline script: the page's CSP allows only 'self'.
(function () {
  function parts(form) {
    var box = form.querySelector("[data-upload-progress]");
    return box ? { box: box, bar: box.querySelector("progress") } : null;
  }

  // Refuse a file over the limit before sending it (the server refuses it too).
  document.addEventListener("htmx:confirm", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-max-bytes]")) return;
    var limit = parseInt(form.getAttribute("data-max-bytes"), 10);
    var input = form.querySelector("input[type=file]");
    var file = input && input.files && input.files[0];
    if (file && limit && file.size > limit) {
      event.preventDefault();
      input.setCustomValidity("The file is over the limit of " + Math.round(limit / 1048576) + " MB: split it.");
      input.reportValidity();
    } else if (input) {
      input.setCustomValidity("");
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("form[data-max-bytes] input[type=file]")) {
      event.target.setCustomValidity("");
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var p = parts(event.target);
    if (!p) return;
    p.bar.value = 0;
    p.bar.textContent = "0%";
    p.box.hidden = false;
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var p = parts(event.target);
    if (!p || !event.detail.lengthComputable) return;
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    p.bar.value = percent;
    p.bar.textContent = percent + "%";
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var p = parts(event.target);
    if (p) p.box.hidden = true;
  });

  // The server answers 413 (too large) with the form's error: show it like a 422.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 413 && parts(event.target)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
