"""What a new user does in MediaHub's web app, step by step, with a screenshot at each step.

Shared by the browser tests: the site may be a MediaHub the test starts itself or one that
`openfront up` runs. Waits are Playwright's (a condition polled until a deadline), never sleeps.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import CDPSession, Dialog, Page, Request, Response, expect
from tests.e2e.browser import REPO, Shots

from openfront.media.ffmpeg import ffmpeg_exe

CLIP_SECONDS = 8
STEP_MS = 15_000  # one page step: a render, an API call
READY_MS = 90_000  # upload to `ready`: the transcode on a busy 2-core machine
PLAY_MS = 30_000  # enough to fetch, buffer and play a few seconds

MASTER = re.compile(r"/hls/master\.m3u8\?")
SEGMENT = re.compile(r"/hls/\d+p/(seg_\d+\.m4s)\?")
SIGNED = re.compile(r"\b(Policy|Signature|Expires)=[^&]*")  # kept out of the artifacts
REDACTED = r"\1=…"
MSE_TYPES = ('video/mp4; codecs="avc1.42E01E"', 'video/mp4; codecs="avc1.64001e,mp4a.40.2"')

LOCALES = REPO / "web" / "src" / "locales"
CATALOGS: dict[str, dict[str, object]] = {
    lang: json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    for lang in ("ko", "en", "pt-BR")
}


def t(lang: str, key: str, **params: str) -> str:
    """A message as the app shows it (web/src/locales), placeholders filled in."""
    text = CATALOGS[lang][key]
    assert isinstance(text, str), key
    for name, value in params.items():
        text = text.replace("{" + name + "}", value)
    return text


TITLE = "한강 산책 (Han river walk)"
UPLOAD_SLOW = 100_000  # bytes/s: the clip (~750 kB) would take ~7 s: time to see the bar move


def make_clip(path: Path, seconds: int = CLIP_SECONDS) -> Path:
    """A small 426x240 test pattern with a tone: one 240p rendition, more than one segment."""
    subprocess.run(
        [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=426x240:rate=15",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
            "-pix_fmt", "yuv420p", "-c:a", "aac", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


@dataclass
class Site:
    """One region's MediaHub as the browser sees it."""

    url: str  # the app and its API, e.g. http://127.0.0.1:8201
    cdn_url: str  # the media edge the API's playback URLs point at


@dataclass
class Traffic:
    """What the page fetched and what went wrong in it, kept for asserts and as an artifact."""

    responses: list[tuple[int, str]] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    patch_offsets: list[int] = field(default_factory=list)  # tus PATCH requests' Upload-Offset

    def watch(self, page: Page) -> None:
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("dialog", self._dialog)

    def _request(self, request: Request) -> None:
        if request.method == "PATCH" and "/uploads/" in request.url:
            self.patch_offsets.append(int(request.headers["upload-offset"]))

    def _response(self, response: Response) -> None:
        self.responses.append((response.status, response.url))

    async def _dialog(self, dialog: Dialog) -> None:
        # The upload page asks before leaving mid-upload ("leave page?"): a user who moves on
        # says yes.
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.accept()

    def lines(self) -> list[str]:
        return [
            *(f"{status} {SIGNED.sub(REDACTED, url)}" for status, url in self.responses),
            "",
            *self.console,
            "",
            *(f"page error: {e}" for e in self.page_errors),
            *(f"dialog: {d}" for d in self.dialogs),
            f"tus PATCH offsets: {self.patch_offsets}",
        ]


@dataclass
class Account:
    username: str = field(default_factory=lambda: f"minji{secrets.token_hex(3)}")
    password: str = "seoul-rain-2024"

    @property
    def email(self) -> str:
        return f"{self.username}@example.kr"


async def sign_up(page: Page, site: Site, shots: Shots, account: Account) -> None:
    """The Seoul site opens in Korean (the region's language beats the browser's en-US)."""
    await page.goto(site.url + "/signup")
    await expect(page.locator("h1")).to_have_text(t("ko", "signup.title"), timeout=STEP_MS)
    await expect(page.locator("html")).to_have_attribute("lang", "ko")
    await page.fill("#signup-username", account.username)
    await page.fill("#signup-email", account.email)
    await page.fill("#signup-password", account.password)
    await shots.take(page, "signup-ko", docs="signup")
    await page.click("[data-testid=signup-submit]")
    # Signing up signs in and opens the upload page.
    await expect(page.locator("h1")).to_have_text(t("ko", "upload.title"), timeout=STEP_MS)
    await expect(page.get_by_test_id("whoami")).to_have_text(
        t("ko", "nav.signedInAs", username=account.username)
    )


async def upload(page: Page, shots: Shots, traffic: Traffic, clip: Path) -> None:
    """Send the clip through tus on a slow link, reload in the middle (the page asks first),
    pick the same file again: it resumes where the server says it stopped."""
    size = len(clip.read_bytes())  # noqa: ASYNC240 (small, local)
    cdp = await page.context.new_cdp_session(page)
    await throttle(cdp, UPLOAD_SLOW)
    await page.get_by_test_id("file-input").set_input_files(clip)
    await expect(page.locator("#upload-title-input")).to_have_value(clip.stem)
    await page.fill("#upload-title-input", TITLE)
    await page.get_by_test_id("upload-start").click()
    await page.wait_for_function(
        "() => document.querySelector('[data-testid=progress]')?.value > 0.25", timeout=STEP_MS
    )
    await expect(page.get_by_test_id("upload-pause")).to_be_visible()
    await shots.take(page, "upload-progress-ko", docs="upload")

    await page.reload()  # the "leave page?" prompt is accepted (Traffic._dialog)
    assert any(d.startswith("beforeunload") for d in traffic.dialogs), traffic.dialogs
    await expect(page.get_by_test_id("unfinished")).to_be_visible(timeout=STEP_MS)
    await shots.take(page, "upload-unfinished-ko")
    await page.get_by_test_id("file-input").set_input_files(clip)
    await page.fill("#upload-title-input", TITLE)
    await page.get_by_test_id("upload-start").click()
    await expect(page.get_by_text(t("ko", "upload.resuming"))).to_be_visible(timeout=STEP_MS)
    await throttle(cdp, None)
    await expect(page.get_by_test_id("upload-status")).to_have_text(
        t("ko", "upload.done"), timeout=STEP_MS
    )
    await expect(page.locator(".progress-text")).to_have_text("100%")
    assert await page.get_by_test_id("progress").evaluate("(el) => el.value") == 1
    await expect(page.get_by_test_id("unfinished")).to_be_hidden()
    await shots.take(page, "upload-done-ko")
    # The second PATCH started where the first stopped, not at zero.
    assert len(traffic.patch_offsets) >= 2 and traffic.patch_offsets[0] == 0, traffic.patch_offsets
    assert 0 < traffic.patch_offsets[-1] < size, traffic.patch_offsets
    await cdp.detach()

    await page.get_by_test_id("upload-to-mine").click()
    await expect(page.locator("h1")).to_have_text(t("ko", "mine.title"), timeout=STEP_MS)


async def throttle(cdp: CDPSession, upload_bytes_per_second: int | None) -> None:
    """DevTools network throttling of uploads (None: off)."""
    await cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": upload_bytes_per_second or -1,
        },
    )


async def wait_until_ready(page: Page, shots: Shots) -> str:
    """My videos polls the API: queued, processing with %, then ready. Returns the video id."""
    card = page.get_by_test_id("video-card")
    await expect(card).to_have_count(1, timeout=STEP_MS)
    badge = card.get_by_test_id("status")
    await expect(badge).to_have_attribute(
        "data-status", re.compile("uploading|queued|processing|ready")
    )
    await shots.take(page, "my-videos-listed")
    await expect(badge).to_have_attribute("data-status", "ready", timeout=READY_MS)
    await expect(badge).to_have_text(t("ko", "status.ready"))
    await shots.take(page, "my-videos-ready-ko", docs="my-videos")
    video_id = await card.get_attribute("data-video-id")
    assert video_id
    return video_id


async def play(page: Page) -> None:
    """On a watch page: hls.js has the playlists, the video plays and shows its frames."""
    # The quality menu appears once hls.js has parsed the master playlist.
    await expect(page.get_by_test_id("quality")).to_be_visible(timeout=STEP_MS)
    # Debian builds Chromium with the H.264 and AAC decoders (Chrome's codec set), so hls.js
    # can feed the fMP4 segments to Media Source Extensions; say so plainly if a build cannot.
    decodes = await page.evaluate(
        "(types) => types.map((t) => MediaSource.isTypeSupported(t))", list(MSE_TYPES)
    )
    assert all(decodes), f"this Chromium cannot decode {dict(zip(MSE_TYPES, decodes, strict=True))}"
    video = page.get_by_test_id("player")
    # Muted, so headless Chromium's autoplay policy lets a script start it.
    await video.evaluate("(v) => { v.muted = true; return v.play(); }")
    await page.wait_for_function(
        "() => document.querySelector('video').currentTime > 1", timeout=PLAY_MS
    )
    playing = await video.evaluate("(v) => ({paused: v.paused, error: v.error, w: v.videoWidth})")
    assert playing == {"paused": False, "error": None, "w": 426}, playing


def assert_played_through(site: Site, responses: list[tuple[int, str]]) -> set[str]:
    """hls.js fetched the master playlist and segments from this site's media edge, all 200
    (signed: the edge refuses unsigned HLS). Returns the segment names."""
    master = [r for r in responses if r[1].startswith(site.cdn_url) and MASTER.search(r[1])]
    segments = [r for r in responses if r[1].startswith(site.cdn_url) and SEGMENT.search(r[1])]
    assert master and {status for status, _ in master} == {200}, responses
    assert segments and {status for status, _ in segments} == {200}, responses
    return {match.group(1) for _, url in segments if (match := SEGMENT.search(url))}


async def watch(page: Page, site: Site, shots: Shots, traffic: Traffic, video_id: str) -> None:
    """Open the watch page, play, seek: hls.js fetches the ladder through the media edge."""
    before = len(traffic.responses)
    await page.get_by_test_id("video-card").locator("h3 a").click()
    await expect(page).to_have_url(f"{site.url}/watch/{video_id}")
    await play(page)
    await shots.take(page, "watch-playing-ko")

    seek_to = CLIP_SECONDS - 3
    await page.get_by_test_id("player").evaluate(f"(v) => {{ v.currentTime = {seek_to}; }}")
    await page.wait_for_function(
        f"() => {{ const v = document.querySelector('video');"
        f" return !v.seeking && v.currentTime > {seek_to} + 0.5; }}",
        timeout=PLAY_MS,
    )
    await shots.take(page, "watch-seeked-ko", docs="watch")
    names = assert_played_through(site, traffic.responses[before:])
    assert {"seg_00000.m4s", "seg_00001.m4s"} <= names, names


async def switch_languages(page: Page, site: Site, shots: Shots, account: Account) -> None:
    """ko → en → pt-BR on My videos; the choice survives a reload and a new sign-in."""
    await page.goto(site.url + "/my-videos")
    await expect(page.locator("h1")).to_have_text(t("ko", "mine.title"), timeout=STEP_MS)
    switcher = page.get_by_test_id("language")
    for lang in ("en", "pt-BR"):
        await switcher.select_option(lang)
        await expect(page.locator("h1")).to_have_text(t(lang, "mine.title"))
        await expect(page.get_by_test_id("status")).to_have_text(t(lang, "status.ready"))
        await expect(page.get_by_test_id("whoami")).to_have_text(
            t(lang, "nav.signedInAs", username=account.username)
        )
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        await shots.take(page, f"my-videos-{lang}", docs=f"my-videos-{lang}")

    await page.reload()
    await expect(page.locator("h1")).to_have_text(t("pt-BR", "mine.title"), timeout=STEP_MS)
    await expect(switcher).to_have_value("pt-BR")

    # Signing out and in again keeps the language too.
    await page.get_by_test_id("signout").click()
    await expect(page.get_by_test_id("signin-form")).to_be_visible(timeout=STEP_MS)
    await expect(page.locator("h1")).to_have_text(t("pt-BR", "signin.title"))
    await page.fill("#signin-login", account.email)
    await page.fill("#signin-password", account.password)
    await shots.take(page, "signin-pt-BR")
    await page.get_by_test_id("signin-submit").click()
    await expect(page.get_by_test_id("whoami")).to_have_text(
        t("pt-BR", "nav.signedInAs", username=account.username), timeout=STEP_MS
    )


async def share_publicly(page: Page, site: Site, shots: Shots, traffic: Traffic) -> None:
    """Make the video public; signed out, the gallery lists it and it plays for anyone."""
    await page.goto(site.url + "/my-videos")
    visibility = page.get_by_test_id("visibility")
    await expect(visibility).to_have_value("private", timeout=STEP_MS)
    await visibility.select_option("public")
    await expect(visibility).to_have_value("public")
    await page.reload()  # the server, not just the page, has it public
    await expect(page.get_by_test_id("visibility")).to_have_value("public", timeout=STEP_MS)

    await page.get_by_test_id("signout").click()
    await expect(page.get_by_test_id("signin-form")).to_be_visible(timeout=STEP_MS)
    await page.goto(site.url + "/")
    await expect(page.locator("h1")).to_have_text(t("pt-BR", "gallery.title"), timeout=STEP_MS)
    card = page.get_by_test_id("gallery").get_by_test_id("video-card")
    await expect(card).to_have_count(1, timeout=STEP_MS)
    await expect(card.locator("h3")).to_have_text(TITLE)
    await shots.take(page, "gallery-pt-BR", docs="gallery")
    before = len(traffic.responses)
    await card.locator("h3 a").click()
    await play(page)
    await shots.take(page, "watch-anonymous-pt-BR")
    anonymous = traffic.responses[before:]
    assert not any("/auth/" in url for _, url in anonymous), anonymous
    assert_played_through(site, anonymous)


async def other_region(
    page: Page, site: Site, shots: Shots, traffic: Traffic, account: Account, video_id: str
) -> None:
    """The account made in Seoul signs in in São Paulo: another origin, so Seoul's stored
    language does not apply and the page is in English, the region's language. The video is
    listed (one accounts and videos database) and plays through São Paulo's media edge."""
    await page.goto(site.url + "/signin")
    await expect(page.locator("h1")).to_have_text(t("en", "signin.title"), timeout=STEP_MS)
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await page.fill("#signin-login", account.username)
    await page.fill("#signin-password", account.password)
    await page.get_by_test_id("signin-submit").click()
    await expect(page.get_by_test_id("whoami")).to_have_text(
        t("en", "nav.signedInAs", username=account.username), timeout=STEP_MS
    )
    await page.goto(site.url + "/my-videos")
    card = page.get_by_test_id("video-card")
    await expect(card).to_have_attribute("data-video-id", video_id, timeout=STEP_MS)
    await expect(card.get_by_test_id("status")).to_have_text(t("en", "status.ready"))
    await shots.take(page, "sao-paulo-my-videos-en")
    before = len(traffic.responses)
    await card.locator("h3 a").click()
    await play(page)
    await shots.take(page, "sao-paulo-watch-en", docs="sao-paulo")
    assert_played_through(site, traffic.responses[before:])
