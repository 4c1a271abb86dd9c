/* django-sigv4-storage: the direct-upload client, for any front end.
 *
 * Plain JavaScript, no build step, no dependency; copy it or load it as
 * {% static 'sigv4_storage/upload-client.js' %}. It defines
 * window.sigv4Upload.upload(file, options) -> Promise<upload token>:
 *
 *   sign the file (options.signUrl, with options.sign added to the request:
 *     {field: <a field token>} for DirectUploadField's views,
 *     {field: <the serializer field's name>} for sigv4_storage.drf's),
 *   send it straight to S3 (one presigned POST, or part URLs),
 *   join the parts (options.completeUrl), or drop them on failure
 *     (options.abortUrl),
 *   and resolve with the upload token to submit as the field's value.
 *
 * options.headers go with every request to your server (X-CSRFToken for
 * session authentication, Authorization for a token); options.onProgress(sent,
 * total) follows the bytes. A refusal rejects with an Error whose .code is
 * the server's stable word (too_large, wrong_type, not_allowed, not_yours,
 * too_many, expired, invalid, used, csrf, bad_request, failed) and whose
 * .message is for the person uploading.
 */
(function () {
  "use strict";

  function refusal(message, code) {
    var error = new Error(message);
    error.code = code;
    return error;
  }

  function askServer(url, payload, headers) {
    var all = { "Content-Type": "application/json" };
    Object.keys(headers || {}).forEach(function (name) { all[name] = headers[name]; });
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: all,
      body: JSON.stringify(payload),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          throw refusal(data.error || "The server answered " + response.status + ".",
            data.code || "failed");
        }
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
        else reject(refusal("The storage refused the upload (HTTP " + request.status + ").",
          "failed"));
      };
      request.onerror = function () {
        if (window.console) {
          console.warn("sigv4_storage: the upload to " + url.split("?")[0] + " failed before " +
            "an answer: check the bucket's CORS rule (manage.py s3doctor --origin).");
        }
        reject(refusal("The upload did not reach the storage: try again.", "failed"));
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

  function uploadParts(answer, file, progress, options) {
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
        return askServer(options.completeUrl, { upload: answer.upload, parts: parts },
          options.headers);
      },
      function (error) {
        askServer(options.abortUrl, { upload: answer.upload }, options.headers)
          .catch(function () {});
        throw error;
      }
    );
  }

  function upload(file, options) {
    var progress = function (sent) {
      if (options.onProgress) options.onProgress(Math.min(sent, file.size), file.size);
    };
    var payload = {
      name: file.name,
      size: file.size,
      type: file.type || "application/octet-stream",
    };
    Object.keys(options.sign || {}).forEach(function (name) { payload[name] = options.sign[name]; });
    return askServer(options.signUrl, payload, options.headers).then(function (answer) {
      var sent = answer.mode === "multipart"
        ? uploadParts(answer, file, progress, options)
        : uploadPost(answer, file, progress);
      return sent.then(function () {
        progress(file.size);
        return answer.upload;
      });
    });
  }

  window.sigv4Upload = { upload: upload };
})();
