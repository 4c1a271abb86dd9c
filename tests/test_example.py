"""The example project: its smoke mode, and a real browser against it.

Marked ``integration``: tox runs them once, in the ``integration`` env. The
browser test drives Debian's Chromium (``apt-get install chromium
chromium-driver``); without it, it skips locally and fails under CI.
"""

import os
import re
import signal
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import django
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "example_project" / "run.py"
ARTIFACTS = ROOT / "artifacts"
ADMIN_PASSWORD = "demo-admin-password-for-tests"


def demo_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DJANGO_"))}
    env.update(
        SIGV4_DEMO_DB=str(tmp_path / "demo.sqlite3"),
        SIGV4_DEMO_ADMIN_PASSWORD=ADMIN_PASSWORD,
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONUNBUFFERED="1",
    )
    return env


def test_check_mode(tmp_path):
    done = subprocess.run(
        [sys.executable, str(RUN), "--check"],
        env=demo_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for step in ("upload", "list", "download via presigned URL", "delete", "s3doctor --write"):
        assert f"OK   {step}" in done.stdout
    assert "check: passed" in done.stdout


def png(width=48, height=32):
    """A real PNG: solid green pixels."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\x0b\x7a\x53" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def demo_server(tmp_path):
    process = subprocess.Popen(
        [sys.executable, str(RUN), "--port", "0"],
        env=demo_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            match = re.search(r"Demo running at (http://127\.0\.0\.1:\d+/)", line)
            if match:
                break
        else:
            pytest.fail("the demo did not start:\n" + "".join(lines))
        yield match.group(1)
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("the demo did not stop on Ctrl-C")
    # Nothing left behind in its process group.
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)


def test_browser_upload_list_download(demo_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    image = png()
    path = tmp_path / "한글 미리보기.png"
    path.write_bytes(image)

    browser.get(demo_server)
    stylesheet = browser.find_element(By.CSS_SELECTOR, "link[rel=stylesheet]").get_attribute("href")
    assert re.match(
        r"http://127\.0\.0\.1:\d+/sigv4-demo/static/demo/site\.[0-9a-f]{12}\.css$", stylesheet
    )
    # The stylesheet and script from the S3 static URL were applied.
    border = browser.execute_script("return getComputedStyle(document.body).borderTopColor")
    assert border == "rgb(11, 122, 83)"
    assert browser.execute_script("return document.documentElement.dataset.staticJs") == "loaded"

    browser.find_element(By.ID, "id_file").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, "#upload-form button").click()

    link = WebDriverWait(browser, 30).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#uploads a.download")
    )[0]
    assert link.text == "한글_미리보기.png"  # Django's get_valid_filename() turns spaces into _
    href = link.get_attribute("href")
    assert "X-Amz-Signature=" in href and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in href
    preview = browser.find_element(By.CSS_SELECTOR, "#uploads img.preview")
    natural = browser.execute_async_script(
        "const img = arguments[0], done = arguments[1];"
        "if (img.complete) { done(img.naturalWidth); return; }"
        "img.onload = img.onerror = () => done(img.naturalWidth);",
        preview,
    )
    assert natural == 48

    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "example-list.png"))

    with urllib.request.urlopen(href, timeout=10) as response:
        assert response.read() == image
    browser.get(href)  # following the link in the browser works too
    assert "AccessDenied" not in browser.page_source and "NoSuchKey" not in browser.page_source

    # serving.redirect: a 302 to a presigned URL that downloads under the file's name.
    page = urllib.request.urlopen(demo_server, timeout=10).read().decode()
    save_as = re.search(r'class="save-as" href="([^"]+)"', page).group(1)
    stream = re.search(r'class="stream" href="([^"]+)"', page).group(1)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as redirected:
        urllib.request.build_opener(NoRedirect).open(demo_server.rstrip("/") + save_as)
    assert redirected.value.code == 302
    assert "no-cache" in redirected.value.headers["Cache-Control"]
    location = redirected.value.headers["Location"]
    assert "response-content-disposition=attachment" in location
    with urllib.request.urlopen(location, timeout=10) as response:
        assert response.read() == image
        disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "%ED%95%9C%EA%B8%80" in disposition
    # serving.stream: through Django, ranges honoured.
    ranged = urllib.request.Request(
        demo_server.rstrip("/") + stream, headers={"Range": "bytes=8-23"}
    )
    with urllib.request.urlopen(ranged, timeout=10) as response:
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes 8-23/{len(image)}"
        assert response.read() == image[8:24]
    with urllib.request.urlopen(demo_server.rstrip("/") + stream, timeout=10) as response:
        assert response.headers["Accept-Ranges"] == "bytes"
        assert response.read() == image


def manage(tmp_path, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT / "example_project",
        env=demo_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_manage_py_s3doctor_and_shell_on_the_embedded_server(tmp_path):
    done = manage(tmp_path, "s3doctor", "--write")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "s3doctor: all checks passed" in done.stdout
    done = manage(
        tmp_path,
        "shell",
        "-c",
        "from django.core.files.storage import default_storage as s; "
        "from django.core.files.base import ContentFile; "
        "print(s.open(s.save('셸.txt', ContentFile(b'hi'))).read())",
    )
    assert done.returncode == 0, done.stderr
    assert "b'hi'" in done.stdout


def test_manage_py_runserver_serves_the_site(tmp_path):
    port = str(__import__("socket").create_server(("127.0.0.1", 0)).getsockname()[1])
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", port],
        cwd=ROOT / "example_project",
        env=demo_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        page = ""
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/direct/", timeout=5) as r:
                    page = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert "data-sigv4-upload" in page, page[:500]
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_browser_direct_upload_to_s3(demo_server, browser, tmp_path):
    """The large-file page: the browser sends the file straight to S3, then saves the token."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    body = ("직접 업로드 " * 20000).encode()  # about 320 KB
    path = tmp_path / "큰 파일 보고서.txt"
    path.write_bytes(body)
    if django.VERSION >= (6, 0):  # under Django's own Content Security Policy middleware
        with urllib.request.urlopen(demo_server + "direct/", timeout=10) as page:
            policy = page.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self' http://127.0.0.1:" in policy
        assert "'unsafe-inline'" not in policy
        assert re.search(r"connect-src 'self' http://127\.0\.0\.1:\d+;", policy), policy
    browser.get(demo_server + "direct/")
    browser.find_element(By.CSS_SELECTOR, "[data-sigv4-upload] input[type=file]").send_keys(
        str(path)
    )
    widget = browser.find_element(By.CSS_SELECTOR, "[data-sigv4-upload]")
    WebDriverWait(browser, 30).until(
        lambda _: widget.get_attribute("data-state") in ("done", "failed")
    )
    status = browser.find_element(By.CSS_SELECTOR, ".sigv4-upload-status").text
    assert widget.get_attribute("data-state") == "done", status
    assert (
        browser.execute_script("return arguments[0].querySelector('progress').value", widget) == 100
    )
    browser.find_element(By.CSS_SELECTOR, "#direct-form button").click()

    # The submit navigates: wait for the list page rather than race it (a loaded
    # machine lost that race once).
    link = WebDriverWait(browser, 30).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#uploads a.download")
    )[0]
    assert link.text == "큰_파일_보고서.txt"
    href = link.get_attribute("href")
    assert "X-Amz-Signature=" in href
    with urllib.request.urlopen(href, timeout=10) as response:
        assert response.read() == body
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "example-direct.png"))


def test_browser_photo_upload_is_checked_and_shown_at_its_size(demo_server, browser, tmp_path):
    """The photos page: a picture straight to S3 through an ImageField, checked as an
    image before it is accepted, listed with the width and height Django stored; a
    file named and sent as a PNG whose bytes are HTML is refused, and not listed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    picture = tmp_path / "사진.png"
    picture.write_bytes(png(120, 80))
    browser.get(demo_server + "photos/")
    choose_file(browser, picture)
    browser.find_element(By.CSS_SELECTOR, "#photo-form button").click()
    image = WebDriverWait(browser, 30).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#photos li.photo img")
    )[0]
    assert (image.get_attribute("data-width"), image.get_attribute("data-height")) == ("120", "80")
    WebDriverWait(browser, 15).until(
        lambda b: b.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", image
        )
    )
    natural = browser.execute_script(
        "return [arguments[0].naturalWidth, arguments[0].naturalHeight]", image
    )
    assert natural == [120, 80]  # the stored bytes are that picture
    assert "120 × 80" in browser.find_element(By.CSS_SELECTOR, "#photos .dimensions").text

    fake = tmp_path / "fake.png"
    fake.write_bytes(b"<!doctype html><script>alert(document.cookie)</script>")
    choose_file(browser, fake)  # S3 takes what the browser sends ...
    browser.find_element(By.CSS_SELECTOR, "#photo-form button").click()
    errors = WebDriverWait(browser, 30).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#photo-form .errorlist")
    )[0]
    assert "its bytes are HTML, not a PNG image" in errors.text  # ... the form does not
    browser.get(demo_server + "photos/")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#photos li.photo")) == 1
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "example-photos.png"))


def choose_file(browser, path):
    """Choose ``path`` in the page's direct-upload widget and wait for the upload."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    widget = browser.find_element(By.CSS_SELECTOR, "[data-sigv4-upload]")
    widget.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(path))
    WebDriverWait(browser, 30).until(
        lambda _: widget.get_attribute("data-state") in ("done", "failed")
    )
    status = widget.find_element(By.CSS_SELECTOR, ".sigv4-upload-status").text
    assert widget.get_attribute("data-state") == "done", status


def current_file(browser):
    """The widget's "Currently" link: (name, bytes behind its URL), or None."""
    from selenium.webdriver.common.by import By

    links = browser.find_elements(By.CSS_SELECTOR, ".sigv4-upload-current a")
    if not links:
        return None
    with urllib.request.urlopen(links[0].get_attribute("href"), timeout=10) as response:
        return links[0].text, response.read()


def save_and_wait(browser, button_selector, done_selector):
    """Submit, wait for the next page (the old one gone), then for ``done_selector``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.CSS_SELECTOR, button_selector).click()
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(page))
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, done_selector))


def set_title(browser, title):
    from selenium.webdriver.common.by import By

    field = browser.find_element(By.ID, "id_title")
    field.clear()
    field.send_keys(title)


def test_browser_edit_form_keeps_replaces_and_clears(demo_server, browser, tmp_path):
    """A plain ModelForm edit view: before, saving a title change was refused ("token
    is not valid"), and with required=False a refused upload emptied the file."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    first, second = tmp_path / "보고서 1.txt", tmp_path / "보고서 2.txt"
    first.write_bytes("첫 번째\n".encode() * 100)
    second.write_bytes("두 번째\n".encode() * 100)
    browser.get(demo_server + "documents/new/")
    set_title(browser, "분기 보고서")
    choose_file(browser, first)
    save_and_wait(browser, "#document-form button", "#documents .document")

    def edit():
        browser.find_element(By.CSS_SELECTOR, "#documents a.edit").click()
        return current_file(browser)

    name, body = edit()
    assert name.endswith("/보고서_1.txt") and body == first.read_bytes()
    set_title(browser, "분기 보고서 (수정)")  # the title only: the file stays
    save_and_wait(browser, "#document-form button", "#documents .document")
    assert browser.find_element(By.CSS_SELECTOR, "#documents a.edit").text == "분기 보고서 (수정)"
    assert edit() == (name, body)

    # A refused upload (a type the field does not take) says why, hides its
    # progress bar, and saving then keeps the stored file.
    refused = tmp_path / "archive.zip"
    refused.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    widget = browser.find_element(By.CSS_SELECTOR, "[data-sigv4-upload]")
    widget.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(refused))
    WebDriverWait(browser, 30).until(lambda _: widget.get_attribute("data-state") == "failed")
    status = widget.find_element(By.CSS_SELECTOR, ".sigv4-upload-status").text
    assert "'application/zip' are not allowed here" in status, status
    assert not widget.find_element(By.CSS_SELECTOR, "progress").is_displayed()
    save_and_wait(browser, "#document-form button", "#documents .document")
    assert edit() == (name, body)

    choose_file(browser, second)  # replace
    save_and_wait(browser, "#document-form button", "#documents .document")
    replaced, body = edit()
    assert replaced.endswith("/보고서_2.txt") and body == second.read_bytes()

    browser.find_element(By.CSS_SELECTOR, "input[name=file-clear]").click()  # clear
    save_and_wait(browser, "#document-form button", "#documents .document")
    assert browser.find_element(By.CSS_SELECTOR, "#documents .no-file").text == "no file"
    assert edit() is None
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "example-edit.png"))


def test_browser_admin_add_change_replace_clear(demo_server, browser, tmp_path):
    """The field in a ModelAdmin: add, change the title only, replace the file, clear."""
    from selenium.webdriver.common.by import By

    first, second = tmp_path / "admin-1.txt", tmp_path / "admin-2.txt"
    first.write_bytes(b"first file\n" * 100)
    second.write_bytes(b"second file\n" * 100)
    sign_in(browser, demo_server)
    browser.get(demo_server + "admin/demo/document/add/")
    set_title(browser, "In the admin")
    choose_file(browser, first)
    save_and_wait(browser, "input[name=_continue]", ".sigv4-upload-current")
    name, body = current_file(browser)
    assert name.endswith("/admin-1.txt") and body == first.read_bytes()

    set_title(browser, "In the admin, renamed")
    save_and_wait(browser, "input[name=_continue]", ".messagelist .success")
    assert browser.find_element(By.ID, "id_title").get_attribute("value") == "In the admin, renamed"
    assert current_file(browser) == (name, body)

    choose_file(browser, second)
    save_and_wait(browser, "input[name=_continue]", ".messagelist .success")
    replaced, body = current_file(browser)
    assert replaced.endswith("/admin-2.txt") and body == second.read_bytes()

    browser.find_element(By.CSS_SELECTOR, "input[name=file-clear]").click()
    save_and_wait(browser, "input[name=_continue]", ".messagelist .success")
    assert current_file(browser) is None
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "example-admin.png"))


def sign_in(browser, demo_server):
    """Sign in as the demo's superuser, and wait for the admin's index."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(demo_server + "admin/login/")
    browser.find_element(By.ID, "id_username").send_keys("demo")
    browser.find_element(By.ID, "id_password").send_keys(ADMIN_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.ID, "user-tools"))


def test_browser_api_client_creates_and_renames(demo_server, browser, tmp_path):
    """No Django form: the page's script signs through the DRF views, sends the file
    to S3 with upload-client.js, creates the document with fetch(), then PATCHes
    its title (the file stays)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    path = tmp_path / "api 문서.pdf"
    path.write_bytes(b"%PDF-1.7 " + "API로 올린 파일\n".encode() * 200)
    browser.get(demo_server + "api-demo/")
    assert browser.find_elements(By.ID, "api-sign-in")  # signed out: the API refuses
    sign_in(browser, demo_server)
    browser.get(demo_server + "api-demo/")
    browser.find_element(By.ID, "api-title").send_keys("API 문서")
    browser.find_element(By.ID, "api-file").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, "#api-form button").click()
    status = browser.find_element(By.ID, "api-status")
    WebDriverWait(browser, 30).until(
        lambda _: status.get_attribute("data-state") in ("done", "failed")
    )
    assert status.get_attribute("data-state") == "done", status.text
    link = browser.find_element(By.ID, "api-link")
    href = link.get_attribute("href")
    assert "X-Amz-Signature=" in href
    with urllib.request.urlopen(href, timeout=10) as response:
        assert response.read() == path.read_bytes()

    browser.find_element(By.ID, "api-rename").click()
    WebDriverWait(browser, 30).until(lambda _: link.text == "API 문서 (renamed)")
    assert status.get_attribute("data-state") == "done", status.text
    assert link.get_attribute("href").split("?")[0] == href.split("?")[0]  # the file stays
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "example-api.png"))
