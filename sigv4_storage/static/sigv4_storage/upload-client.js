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
 *   join the parts (options.completeUrl),
 *   and resolve with the upload token to submit as the field's value.
 *
 * A file sent in parts resumes (with options.resumeUrl): its upload token is
 * kept in the browser's localStorage (under the sign URL, options.resumeKey
 * (else options.sign: give a key that stays the same across page loads) and
 * the file's name, size, type and date) until it is joined, for two days at
 * most; chosen again after a
 * reload or a lost connection, the same file asks the server which parts S3
 * has (options.resumeUrl) and sends only the others (options.onResume(stored,
 * total) says how much was there). An upload that cannot be resumed any more
 * is started again. Without options.resumeUrl, a failed upload's parts are
 * dropped (options.abortUrl).
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

  // The browser's memory of uploads in parts not yet joined (null: none kept):
  // under the sign URL, options.resumeKey (else options.sign) and the file.
  var KEPT = "sigv4-upload:";
  var KEPT_FOR = 2 * 24 * 3600 * 1000;  // beyond an upload token's life: forgotten

  function remembered(file, options) {
    var store;
    try {
      store = window.localStorage;
      Object.keys(store).forEach(function (key) {  // forget what is too old to resume
        if (key.indexOf(KEPT) !== 0) return;
        var kept = JSON.parse(store.getItem(key) || "{}");
        if (!(Date.now() - kept.at < KEPT_FOR)) store.removeItem(key);
      });
    } catch (error) {
      return null;  // storage disabled: no resuming, nothing else changes
    }
    var key = KEPT + [options.signUrl, options.resumeKey || JSON.stringify(options.sign || {}),
      file.name, file.size, file.type, file.lastModified].join("|");
    return {
      get: function () {
        try { return JSON.parse(store.getItem(key) || "{}").upload; } catch (error) { return null; }
      },
      set: function (token) {
        try {
          store.setItem(key, JSON.stringify({ upload: token, at: Date.now() }));
        } catch (error) { /* full: this upload will not resume */ }
      },
      forget: function () { store.removeItem(key); },
    };
  }

  function uploadParts(answer, file, progress, options, memory) {
    var parts = (answer.parts || []).slice();  // [number, ETag] S3 has already
    var done = 0;
    parts.forEach(function (part) {
      done += Math.min(answer.part_size, file.size - (part[0] - 1) * answer.part_size);
    });
    if (parts.length && options.onResume) options.onResume(done, file.size);
    progress(done);
    var chain = Promise.resolve();
    answer.urls.forEach(function (url, index) {
      if (!url) return;  // stored whole already
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
        parts.sort(function (a, b) { return a[0] - b[0]; });
        return askServer(options.completeUrl, { upload: answer.upload, parts: parts },
          options.headers);
      },
      function (error) {
        if (memory) {  // kept: chosen again, the file goes on from where it stopped
          throw refusal("The upload stopped: choose the same file again to go on from " +
            "where it stopped.", error.code || "failed");
        }
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
    var memory = options.resumeUrl ? remembered(file, options) : null;
    var sign = function () { return askServer(options.signUrl, payload, options.headers); };
    var kept = memory && memory.get();
    var started = kept
      ? askServer(options.resumeUrl, { upload: kept }, options.headers).catch(function () {
        memory.forget();  // no longer resumable (joined, too old, another session): anew
        return sign();
      })
      : sign();
    return started.then(function (answer) {
      var parts = answer.mode === "multipart";
      if (parts && memory) memory.set(answer.upload);
      var sent = parts
        ? uploadParts(answer, file, progress, options, memory)
        : uploadPost(answer, file, progress);
      return sent.then(function () {
        if (memory) memory.forget();
        progress(file.size);
        return answer.upload;
      });
    });
  }

  window.sigv4Upload = { upload: upload };
})();
