/* django-sigv4-storage: the DirectUploadField widget.
 *
 * Plain JavaScript, no build step; needs upload-client.js (loaded first by
 * the widget's media). When a file is chosen in a [data-sigv4-upload]
 * widget: upload it straight to S3 with window.sigv4Upload (the CSRF token
 * of the form as header, same origin) and a progress bar, then put the
 * signed upload token in the hidden input: the form submits that token,
 * never the file. The form cannot be submitted while a file is on its way
 * (the status says so). A refused or failed upload leaves the hidden input
 * empty: the form then keeps the stored file.
 */
(function () {
  "use strict";

  function csrfToken(widget) {
    var form = widget.closest("form");
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function start(widget, file) {
    var hidden = widget.querySelector("input[type=hidden]");
    var bar = widget.querySelector("progress");
    var status = widget.querySelector(".sigv4-upload-status");
    var form = widget.closest("form");
    hidden.value = "";
    bar.hidden = false;
    bar.value = 0;
    widget.dataset.state = "uploading";
    status.textContent = "Uploading " + file.name + "…";
    if (form) form.dataset.sigv4Uploading = "1";
    window.sigv4Upload.upload(file, {
      signUrl: widget.dataset.signUrl,
      completeUrl: widget.dataset.completeUrl,
      resumeUrl: widget.dataset.resumeUrl,
      // The field token's signed part (its limits): the same on every page load.
      resumeKey: widget.dataset.field.split(":")[0],
      abortUrl: widget.dataset.abortUrl,
      sign: { field: widget.dataset.field },
      headers: { "X-CSRFToken": csrfToken(widget) },
      onProgress: function (sent, total) {
        bar.value = total ? Math.floor((sent * 100) / total) : 100;
      },
      onResume: function (stored, total) {
        status.textContent = "Resuming " + file.name + ": " + Math.floor((stored * 100) / total) +
          " % was already stored…";
      },
    })
      .then(function (token) {
        var clear = widget.querySelector("input[type=checkbox]");
        if (clear) clear.checked = false;
        hidden.value = token;
        bar.value = 100;
        widget.dataset.state = "done";
        status.textContent = file.name + " uploaded.";
      })
      .catch(function (error) {
        widget.dataset.state = "failed";
        bar.hidden = true;
        status.textContent = error.message;
      })
      .then(function () {
        if (form) delete form.dataset.sigv4Uploading;
      });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
    var widget = input.closest("[data-sigv4-upload]");
    if (widget && input.files && input.files[0]) start(widget, input.files[0]);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.sigv4Uploading) {
      event.preventDefault();
      form.querySelectorAll("[data-sigv4-upload][data-state=uploading]").forEach(function (w) {
        w.querySelector(".sigv4-upload-status").textContent =
          "Please wait: the file is still uploading.";
      });
    }
  }, true);
})();
