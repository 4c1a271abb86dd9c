/* django-sigv4-storage: direct browser uploads for DirectUploadField.
 *
 * Plain JavaScript, no build step. When a file is chosen in a
 * [data-sigv4-upload] widget: ask the sign view (CSRF header, same origin)
 * for a presigned POST or presigned part URLs, send the file straight to S3
 * with a progress bar, then put the signed upload token in the hidden input:
 * the form submits that token, never the file. The form cannot be submitted
 * while a file is on its way (the status says so). A refused or failed upload
 * leaves the hidden input empty: the form then keeps the stored file.
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

  function askServer(widget, url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(widget) },
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || "The server answered " + response.status);
        return data;
      });
    });
  }

  function send(method, url, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var request = new XMLHttpRequest();
      request.open(method, url);
      request.upload.onprogress = function (event) {
        if (event.lengthComputable) onProgress(event.loaded);
      };
      request.onload = function () {
        if (request.status >= 200 && request.status < 300) resolve(request);
        else reject(new Error("The storage refused the upload (HTTP " + request.status + ")."));
      };
      request.onerror = function () {
        if (window.console) {
          console.warn("sigv4_storage: the upload to " + url.split("?")[0] + " failed before " +
            "an answer: check the bucket's CORS rule (manage.py s3doctor --origin).");
        }
        reject(new Error("The upload did not reach the storage: try again."));
      };
      request.send(body);
    });
  }

  function uploadPost(answer, file, progress) {
    var form = new FormData();
    Object.keys(answer.fields).forEach(function (name) { form.append(name, answer.fields[name]); });
    if (!("Content-Type" in answer.fields)) form.append("Content-Type", file.type);
    form.append("file", file);
    return send("POST", answer.url, form, progress);
  }

  function uploadParts(widget, answer, file, progress) {
    var done = 0;
    var parts = [];
    var chain = Promise.resolve();
    answer.urls.forEach(function (url, index) {
      chain = chain.then(function () {
        var start = index * answer.part_size;
        var blob = file.slice(start, start + answer.part_size);
        return send("PUT", url, blob, function (loaded) { progress(done + loaded); }).then(
          function (request) {
            done += blob.size;
            parts.push([index + 1, request.getResponseHeader("ETag")]);
          }
        );
      });
    });
    return chain.then(
      function () {
        return askServer(widget, widget.dataset.completeUrl, { upload: answer.upload, parts: parts });
      },
      function (error) {
        askServer(widget, widget.dataset.abortUrl, { upload: answer.upload }).catch(function () {});
        throw error;
      }
    );
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
    function progress(loaded) {
      bar.value = file.size ? Math.min(100, Math.floor((loaded * 100) / file.size)) : 100;
    }
    askServer(widget, widget.dataset.signUrl, {
      field: widget.dataset.field,
      name: file.name,
      size: file.size,
      type: file.type || "application/octet-stream",
    })
      .then(function (answer) {
        var sent = answer.mode === "multipart"
          ? uploadParts(widget, answer, file, progress)
          : uploadPost(answer, file, progress);
        return sent.then(function () { return answer.upload; });
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
