/* The demo's API client: plain fetch() and window.sigv4Upload, as a
 * single-page app would use them. Session authentication: DRF checks the
 * CSRF token, sent from Django's csrftoken cookie. */
(function () {
  "use strict";
  var form = document.getElementById("api-form");
  if (!form) return;
  var status = document.getElementById("api-status");
  var progress = document.getElementById("api-progress");
  var document_ = null;

  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function api(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(JSON.stringify(data));
        return data;
      });
    });
  }

  function show(data) {
    document_ = data;
    var link = document.getElementById("api-link");
    link.href = data.file;
    link.textContent = data.title;
    document.getElementById("api-result").hidden = false;
    status.textContent = "Saved document " + data.id + ".";
    status.dataset.state = "done";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = document.getElementById("api-file").files[0];
    status.dataset.state = "uploading";
    status.textContent = "Uploading " + file.name + "…";
    window.sigv4Upload.upload(file, {
      signUrl: form.dataset.signUrl,
      completeUrl: form.dataset.completeUrl,
      abortUrl: form.dataset.abortUrl,
      sign: { field: "file" },
      headers: { "X-CSRFToken": csrf() },
      onProgress: function (sent, total) { progress.value = Math.floor((sent * 100) / total); },
    })
      .then(function (token) {
        var title = document.getElementById("api-title").value;
        return api("POST", form.dataset.apiUrl, { title: title, file: token });
      })
      .then(show)
      .catch(function (error) {
        status.dataset.state = "failed";
        status.textContent = (error.code ? error.code + ": " : "") + error.message;
      });
  });

  document.getElementById("api-rename").addEventListener("click", function () {
    status.dataset.state = "saving";
    api("PATCH", form.dataset.apiUrl + document_.id + "/", { title: document_.title + " (renamed)" })
      .then(show)
      .catch(function (error) {
        status.dataset.state = "failed";
        status.textContent = error.message;
      });
  });
})();
