"""Direct uploads in a real site's life: edit forms, several users, second uses,
retries, open uploads (``accept.accept``, ``DirectUploadField`` on edit forms).

On moto in every environment and on SeaweedFS (which enforces POST policies,
signed headers and ``If-None-Match``) in ``integration``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from dataclasses import replace

import pytest
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.middleware.csrf import get_token
from django.test import RequestFactory

from sigv4_storage import creates, pending, tokens, views
from sigv4_storage.forms import DirectUploadField
from sigv4_storage.tokens import Upload
from tests.test_direct_uploads import (
    ANONYMOUS,
    BOB,
    OTHER_SESSION,
    SERVERS,
    SESSION,
    AvatarForm,
    DocumentForm,
    call,
    field_token,
    keys,
    send_parts,
    sign,
    submit,
    upload_bucket,
)
from tests.util import post, slot_claims

MB = 1024 * 1024
#: A PNG's signature: what its first bytes must be to be accepted as image/png.
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(params=SERVERS)
def s3(request, settings):
    yield from upload_bucket(request, settings)


class Report(models.Model):
    title = models.CharField(max_length=50)
    file = models.FileField(upload_to="docs/", blank=True, max_length=300)

    class Meta:
        app_label = "sigv4_storage"
        managed = False


class ReportForm(forms.ModelForm):
    """An edit form whose file may be cleared."""

    file = DirectUploadField(max_size=200_000, upload_to="docs/", required=False)

    class Meta:
        model = Report
        fields = ["title", "file"]


class RequiredReportForm(ReportForm):
    file = DirectUploadField(max_size=200_000, upload_to="docs/")


def uploaded(s3, form=ReportForm, body=PNG + b"\n", name="a.png", **kwargs):
    """An upload signed for ``form`` and POSTed to the server: its answer."""
    status, answer = sign(name=name, size=len(body), form=form, **kwargs)
    assert status == 200, answer
    assert post(answer, name, body)[0] in (200, 204)
    return answer


def multipart(form=AvatarForm, size=9 * MB, **kwargs):
    payload = {"field": field_token(form), "name": "big.bin", "size": size, "type": "x/y"}
    return call(views.sign, payload, **kwargs)


def hidden_value(html: str) -> str:
    return re.search(r'type="hidden" name="file" value="([^"]*)"', html).group(1)


def body_of(server, bucket, name):
    return server.client().get_object(Bucket=bucket, Key=f"media/{name}")["Body"].read()


# -- edit forms: keep, replace, clear ------------------------------------------------------------
@pytest.mark.parametrize(
    "form_class", [ReportForm, RequiredReportForm], ids=["optional", "required"]
)
def test_an_edit_form_keeps_the_file_when_no_new_one_is_chosen(s3, form_class):
    """Changing the title only: before, the hidden input held the stored name, which
    clean() refused as a forged token; with required=False an empty one cleared the file."""
    report = Report(title="old", file="docs/kept/report.png")
    html = str(form_class(instance=report)["file"])
    assert hidden_value(html) == ""  # the stored name is shown, never submitted
    form = form_class(
        data={"title": "new", "file": hidden_value(html), "csrfmiddlewaretoken": SESSION},
        instance=report,
    )
    assert form.is_valid(), form.errors
    assert form.save(commit=False).file.name == "docs/kept/report.png"


def test_a_refused_upload_never_changes_the_stored_file(s3):
    """The script empties the hidden input when an upload starts; refused or failed,
    nothing is submitted, and nothing is what keeps the file."""
    status, answer = sign(size=9_000_000, form=ReportForm)
    assert (status, answer["code"]) == (400, "too_large")
    report = Report(title="t", file="docs/kept/report.png")
    form = ReportForm(
        data={"title": "t", "file": "", "csrfmiddlewaretoken": SESSION}, instance=report
    )
    assert form.is_valid() and form.save(commit=False).file.name == "docs/kept/report.png"


def test_only_the_clear_checkbox_clears(s3):
    report = Report(title="t", file="docs/kept/report.png")
    form = ReportForm(data={"title": "t", "file-clear": "on"}, instance=report)
    assert form.is_valid(), form.errors
    assert form.save(commit=False).file.name == ""
    # A required field renders no checkbox, and a forged one changes nothing.
    report = Report(title="t", file="docs/kept/report.png")
    assert 'name="file-clear"' not in str(RequiredReportForm(instance=report)["file"])
    form = RequiredReportForm(data={"title": "t", "file-clear": "on"}, instance=report)
    assert form.is_valid() and form.save(commit=False).file.name == "docs/kept/report.png"


def test_a_new_upload_and_clear_together_are_refused(s3):
    answer = uploaded(s3)
    report = Report(title="t", file="docs/kept/report.png")
    form = submit(ReportForm, answer["upload"], title="t", **{"file-clear": "on"})
    form.instance = report
    assert not form.is_valid() and "either submit a file or check the clear" in str(form.errors)


def test_the_current_file_is_shown_with_its_link(s3):
    report = Report(title="t", file="docs/kept/report.png")
    html = str(ReportForm(instance=report)["file"])
    link = re.search(r'Currently: <a href="([^"]+)">docs/kept/report.png</a>', html)
    assert link and "X-Amz-Signature=" in link.group(1)
    assert 'type="checkbox" name="file-clear"' in html
    assert "Currently" not in str(ReportForm()["file"])


def test_replacing_the_file(s3):
    server, bucket = s3
    answer = uploaded(s3, body=PNG + b" new")
    report = Report(title="t", file="docs/kept/report.png")
    form = ReportForm(
        data={"title": "t", "file": answer["upload"], "csrfmiddlewaretoken": SESSION},
        instance=report,
    )
    assert form.is_valid(), form.errors
    name = form.save(commit=False).file.name
    assert name.startswith("docs/") and name != "docs/kept/report.png"
    assert body_of(server, bucket, name) == PNG + b" new"


# -- tokens bound to the user and the browser session --------------------------------------------
def test_another_user_cannot_complete_resume_or_abort_an_upload(s3):
    _, answer = multipart()
    token = {"upload": answer["upload"], "parts": [[1, '"x"']]}
    for view in (views.complete, views.resume, views.abort):
        assert call(view, token, user=BOB, session=OTHER_SESSION)[1]["code"] == "not_yours"
        # The same browser, another account (Django rotates the secret at login, but
        # the user is checked as well).
        assert call(view, token, user=BOB)[1]["code"] == "not_yours"
        assert call(view, token, user=ANONYMOUS)[0] == 403
    # A signed-in user's upload is the user's: from another browser of theirs too.
    assert call(views.abort, {"upload": answer["upload"]}, session=OTHER_SESSION)[0] == 200


def test_an_anonymous_upload_is_bound_to_its_browser_session(s3, settings):
    """Where the hook lets anonymous visitors upload, the session is the binding."""
    settings.SIGV4_STORAGE_UPLOAD_PERMISSION = "tests.test_upload_lifecycle.anyone"
    _, answer = multipart(user=ANONYMOUS)
    token = {"upload": answer["upload"]}
    assert call(views.abort, token, user=ANONYMOUS, session=OTHER_SESSION)[1]["code"] == (
        "not_yours"
    )
    assert call(views.abort, token, user=BOB)[1]["code"] == "not_yours"
    assert call(views.abort, token, user=ANONYMOUS)[0] == 200
    # Without a session there is nothing to bind an anonymous upload to.
    status, refused = multipart(user=ANONYMOUS, session=None)
    assert (status, refused["code"]) == (403, "csrf")


def anyone(request, limits):
    return True


def test_the_form_refuses_an_upload_of_another_session(s3):
    server, bucket = s3
    answer = uploaded(s3, form=DocumentForm)
    form = submit(DocumentForm, answer["upload"], session=OTHER_SESSION)
    assert not form.is_valid() and "started by someone else" in str(form.errors)
    form = DocumentForm(data={"file": answer["upload"]})  # no {% csrf_token %}
    assert not form.is_valid() and "started by someone else" in str(form.errors)
    assert len(keys(server, bucket)) == 1  # refused: nothing deleted, nothing copied
    # The masked token a page renders (another each time) stands for the same secret.
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = SESSION
    form = submit(DocumentForm, answer["upload"], session=get_token(request))
    assert form.is_valid(), form.errors


# -- one token, one stored file ------------------------------------------------------------------
def test_a_token_backs_one_stored_file(s3):
    """Before, one token submitted three times made three records on one object."""
    server, bucket = s3
    answer = uploaded(s3, form=DocumentForm)
    first = submit(DocumentForm, answer["upload"])
    assert first.is_valid(), first.errors
    for _ in range(2):
        again = submit(DocumentForm, answer["upload"])
        assert not again.is_valid() and "used already" in str(again.errors)
    assert keys(server, bucket) == [f"media/{first.cleaned_data['file']}"]


def test_simultaneous_submissions_accept_one(s3):
    """Conditional copies (If-None-Match: *): the state is the server's, so it holds
    across threads as across processes."""
    server, bucket = s3
    if server.kind == "moto":
        pytest.skip("moto ignores If-None-Match on CopyObject")
    answer = uploaded(s3, form=DocumentForm)
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def submit_once():
        form = submit(DocumentForm, answer["upload"])
        barrier.wait()
        results.append(form.is_valid())

    threads = [threading.Thread(target=submit_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert len(keys(server, bucket)) == 1


def test_a_form_shown_again_keeps_its_accepted_upload(s3):
    """A form with an error elsewhere is shown again with a token for the accepted
    file (not the spent one); submitting it again, however often, gives that file
    with no copy (before, each submission copied it once more: 5 invalid
    submissions of a 4 MiB upload left 5 copies)."""
    server, bucket = s3
    answer = uploaded(s3, body=PNG + b" kept")
    form = submit(ReportForm, answer["upload"], title="")
    assert not form.is_valid() and "title" in form.errors and "file" not in form.errors
    token = hidden_value(str(form["file"]))
    assert token and token != answer["upload"]
    assert "The file was uploaded." in str(form["file"])
    for _ in range(3):
        form = submit(ReportForm, token, title="")
        assert not form.is_valid() and hidden_value(str(form["file"])) == token
    form = submit(ReportForm, token, title="t")
    assert form.is_valid(), form.errors
    assert body_of(server, bucket, form.cleaned_data["file"]) == PNG + b" kept"
    assert keys(server, bucket) == [f"media/{form.cleaned_data['file']}"]
    assert slot_claims(server, bucket) == []
    # The spent upload token stays spent.
    again = submit(ReportForm, answer["upload"], title="t")
    assert not again.is_valid() and "used already" in str(again.errors)


def test_a_refused_token_is_not_shown_again(s3):
    form = submit(DocumentForm, "forged")
    assert not form.is_valid()
    assert hidden_value(str(form["file"])) == ""


def test_an_accepted_file_is_final(s3):
    """Replaying the presigned POST after the form accepted the file cannot change it:
    the accepted name is one no policy was signed for (before, the replay replaced
    the accepted file's bytes for the policy's hour)."""
    server, bucket = s3
    answer = uploaded(s3, form=DocumentForm, body=PNG + b" first")
    form = submit(DocumentForm, answer["upload"])
    assert form.is_valid(), form.errors
    name = form.cleaned_data["file"]
    # The same size as declared: a larger replay is refused by the policy already.
    assert post(answer, "a.png", PNG + b" again")[0] in (200, 204)
    assert body_of(server, bucket, name) == PNG + b" first"
    # The replayed object lies at the upload key, which the token can no longer use.
    again = submit(DocumentForm, answer["upload"])
    assert not again.is_valid() and "used already" in str(again.errors)
    assert body_of(server, bucket, name) == PNG + b" first"


def test_a_multipart_upload_accepted_in_parts(s3, monkeypatch):
    """Objects over S3's 5 GiB CopyObject limit are copied with UploadPartCopy: the
    same path, with the limit lowered to 5 MiB for the test."""
    server, bucket = s3
    monkeypatch.setattr(creates, "COPY_PART", 5 * MB)
    body = os.urandom(11 * MB)
    _, answer = multipart(size=len(body))
    parts = send_parts(answer, body)
    assert call(views.complete, {"upload": answer["upload"], "parts": parts})[0] == 200
    form = submit(AvatarForm, answer["upload"])
    assert form.is_valid(), form.errors
    assert body_of(server, bucket, form.cleaned_data["file"]) == body
    assert keys(server, bucket) == [f"media/{form.cleaned_data['file']}"]
    assert not server.client().list_multipart_uploads(Bucket=bucket).get("Uploads")


# -- field tokens: they expire, name the field, and the hook sees them -------------------------
def test_field_tokens_expire(s3, monkeypatch):
    import time

    token = field_token()
    later = time.time() + tokens.FIELD_MAX_AGE + 10
    monkeypatch.setattr(tokens.signing.time, "time", lambda: later)
    payload = {"field": token, "name": "a.png", "size": 10, "type": "image/png"}
    status, answer = call(views.sign, payload)
    assert (status, answer["code"]) == (400, "expired") and "reload" in answer["error"]


def test_a_token_made_for_another_form_field_is_refused(s3):
    """Same limits, another field of the page: refused, and the file left alone."""
    server, bucket = s3
    limits = replace(DocumentForm().fields["file"].limits, field="other")
    body = PNG + b"\n"
    payload = {"field": limits.token(), "name": "a.png", "size": len(body), "type": "image/png"}
    _, answer = call(views.sign, payload)
    assert post(answer, "a.png", body)[0] in (200, 204)
    form = submit(DocumentForm, answer["upload"])
    assert not form.is_valid() and "another field" in str(form.errors)
    assert len(keys(server, bucket)) == 1


def test_a_stricter_field_never_deletes_what_another_accepted(s3):
    """Before, one token submitted to a second, stricter field sharing upload_to deleted
    the file the first field had accepted."""
    server, bucket = s3

    class Strict(forms.Form):
        file = DirectUploadField(max_size=3, upload_to="docs/", content_types=["image/"])

    answer = uploaded(s3, form=DocumentForm)
    accepted = submit(DocumentForm, answer["upload"])
    assert accepted.is_valid(), accepted.errors
    refused = submit(Strict, answer["upload"])
    assert not refused.is_valid()
    assert keys(server, bucket) == [f"media/{accepted.cleaned_data['file']}"]


def test_the_permission_hook_is_told_the_field_and_limits(s3, settings):
    settings.SIGV4_STORAGE_UPLOAD_PERMISSION = "tests.test_upload_lifecycle.staff_only_avatars"
    assert sign()[0] == 200  # DocumentForm's field: anyone signed in
    assert multipart(size=MB)[0] == 403  # AvatarForm's "avatars/": staff only
    assert multipart(size=MB, user=BOB)[0] == 200
    assert ASKED[-1] == ("file", "avatars/", 20 * MB)


ASKED: list[tuple[str, str, int]] = []


def staff_only_avatars(request, limits):
    ASKED.append((limits.field, limits.upload_to, limits.max_size))
    return limits.upload_to != "avatars/" or request.user.pk == BOB.pk


# -- uploads in progress per user, and uploads never submitted ----------------------------------
def later(monkeypatch, seconds):
    """The server's clock, as the sign step reads it, ``seconds`` ahead."""
    moment = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)
    monkeypatch.setattr(pending.abandoned, "server_time", lambda page: moment)


def test_uploads_in_progress_per_user_are_bounded(s3, settings, monkeypatch):
    """POST forms and multipart uploads count alike, per user and field folder
    (before, POST signs were not counted: 60 in 2.9 s); aborting frees a slot,
    and slots whose URLs have expired free themselves."""
    server, bucket = s3
    settings.SIGV4_STORAGE_UPLOAD_MAX_OPEN = 3
    posted = sign(form=AvatarForm, type_="x/y")
    assert posted[0] == 200 and posted[1]["mode"] == "post"
    first, second = multipart()[1], multipart()[1]
    status, answer = sign(form=AvatarForm, type_="x/y")
    assert (status, answer["code"]) == (429, "too_many")
    assert answer["error"].startswith("You have 3 uploads in progress here")
    assert multipart()[0] == 429
    assert multipart(user=BOB, session=OTHER_SESSION)[0] == 200  # another user's count
    assert sign()[0] == 200  # another field's folder
    assert call(views.abort, {"upload": first["upload"]})[0] == 200
    assert len(slot_claims(server, bucket)) == 5 - 1
    assert multipart()[0] == 200
    assert multipart()[0] == 429
    # Two URL lifetimes later, the old slots are free and deleted, and the multipart
    # uploads behind them, whose part URLs expired an hour ago, aborted.
    later(monkeypatch, 2 * 3600 + 3660)
    status, fresh = multipart()
    assert status == 200
    folder = "media/" + Upload.from_token(fresh["upload"]).name.rsplit("/", 2)[0]
    assert len([key for key in slot_claims(server, bucket) if key.startswith(folder)]) == 1
    open_now = server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert Upload.from_token(second["upload"]).upload_id not in {u["UploadId"] for u in open_now}


def test_simultaneous_signs_do_not_pass_the_cap(s3, settings):
    """12 signs at once with a cap of 3: 3 are signed (before, 12: POST signs were
    not counted, and the multipart count was read before any upload was made)."""
    server, bucket = s3
    if server.kind == "moto":
        pytest.skip("moto server does not settle simultaneous conditional PUTs atomically")
    settings.SIGV4_STORAGE_UPLOAD_MAX_OPEN = 3
    barrier = threading.Barrier(12)
    statuses: list[int] = []

    def sign_once():
        barrier.wait()
        statuses.append(sign(form=AvatarForm, type_="x/y")[0])

    threads = [threading.Thread(target=sign_once) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 3 + [429] * 9
    assert len(slot_claims(server, bucket)) == 3


def test_uploads_never_submitted_are_removed(s3, settings, monkeypatch):
    """Each upload waits in its uploader's pending folder; once its token can no
    longer be submitted, the uploader's next sign deletes it (servers without
    lifecycle rules are cleaned too). Before, it stayed in the bucket for ever."""
    server, bucket = s3
    forgotten = uploaded(s3, form=DocumentForm)
    name = Upload.from_token(forgotten["upload"]).name
    assert name.startswith(pending.PENDING + "docs/")
    assert keys(server, bucket) == [f"media/{name}"]
    later(monkeypatch, 3600 + tokens.SUBMIT_WITHIN - 60)  # still submittable: kept
    assert sign()[0] == 200
    assert keys(server, bucket) == [f"media/{name}"]
    later(monkeypatch, 3600 + tokens.SUBMIT_WITHIN + 60)
    fresh = uploaded(s3, form=DocumentForm)
    assert keys(server, bucket) == [f"media/{Upload.from_token(fresh['upload']).name}"]
    form = submit(DocumentForm, forgotten["upload"])
    assert not form.is_valid()


def test_the_open_upload_setting_is_checked(s3, settings):
    settings.SIGV4_STORAGE_UPLOAD_MAX_OPEN = 0
    with pytest.raises(ImproperlyConfigured, match="SIGV4_STORAGE_UPLOAD_MAX_OPEN=0"):
        multipart()


# -- retries -------------------------------------------------------------------------------------
@pytest.mark.integration
def test_a_lost_answer_to_the_copy_is_recognised_as_ours(faulty, settings):
    """The server copies, the answer is lost, botocore retries and gets 412: the write
    id on the accepted file says it was this copy, so the form accepts the upload
    (without it: "used already", and the file orphaned)."""
    from django.test import override_settings

    from tests.faults import Rule

    weed, proxy, bucket = faulty
    settings.AWS_LOCATION = "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "sigv4_storage.SigV4S3Storage"},
    }
    with override_settings(ROOT_URLCONF="tests.test_direct_uploads"):
        answer = uploaded(None, form=DocumentForm, body=PNG + b" copied once")
        copies = lambda method, path: method == "PUT" and "partNumber" not in path  # noqa: E731
        proxy.rules.append(Rule(copies, status=None, forward=True, times=1))
        form = submit(DocumentForm, answer["upload"])
        assert form.is_valid(), form.errors
    assert proxy.injected == 1
    name = form.cleaned_data["file"]
    assert keys(weed, bucket) == [f"media/{name}"]
    assert body_of(weed, bucket, name) == PNG + b" copied once"


def test_what_clean_asks_the_server(s3):
    """The upload is within the limits, its first bytes are read (one ranged GET
    of at most 64 KiB: here the whole small file), the accepted name is claimed
    (an empty conditional PutObject), one server-side copy over the claim and
    the upload key's deletion with its slot's: five requests."""
    from django.core.files.storage import default_storage

    answer = uploaded(s3, form=DocumentForm)
    sent: list[str] = []
    creating = default_storage._shared(signed=True, create=True).client  # conditional writes
    for client in (default_storage.connection.meta.client, creating):
        client.meta.events.register("before-call.s3", lambda model, **_: sent.append(model.name))
    form = submit(DocumentForm, answer["upload"])
    assert form.is_valid(), form.errors
    assert sent == ["HeadObject", "GetObject", "PutObject", "CopyObject", "DeleteObjects"]
    server, bucket = s3
    assert slot_claims(server, bucket) == []
