"""The reader's view in a real browser: headless Chromium (Debian's) driven by Selenium.

The built site (`_build/html`, both languages side by side) is served by Python's http.server on
127.0.0.1 in a thread; Selenium drives /usr/bin/chromium through Debian's chromedriver, so nothing is
downloaded. Screenshots of one page per language go to _build/browser/.

Needs: `apt-get install chromium chromium-driver` (.ci/run does it); the tests skip with that message
where they are missing. The Download-PDF check needs `make pdf` (the PDFs are copied next to the HTML).
What depends on the translation: the Chinese search word is taken from the zh search index, which
holds Chinese words only once pages are translated (the test skips before that).
"""
from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import BOOK, BUILD, HTML, ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = BUILD / "browser"
NOTEBOOK_PAGE = "running"  # a notebook page every build has (book/running.md)
CJK = re.compile(r"[\u4e00-\u9fff]")


# -- the server and the browser -----------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def site(html_dir):
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("headless Chromium is not installed: `apt-get install chromium chromium-driver` "
                    "(Debian; .ci/run installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="yangbook-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,1000", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(driver, url: str) -> list[dict]:
    """Load ``url``, wait until the page's scripts have settled; returns the console's errors."""
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(url)
    _wait(driver, "return document.readyState === 'complete'")
    time.sleep(0.5)
    # /favicon.ico: the browser asks the server's root for it, and the test serves _build/html there
    # (the folder above the two books), not a site root; that 404 is the test's, not the book's.
    return [entry for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and "/favicon.ico" not in entry["message"]]


def _wait(driver, script: str, timeout: float = 20.0, what: str = ""):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or script}")


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=20) as response:
        assert response.status == 200, f"{url}: HTTP {response.status}"
        return response.read()


def _pages_with_display_math(lang: str) -> list[str]:
    root = HTML / lang
    return sorted(
        str(p.relative_to(root).with_suffix(""))
        for p in root.rglob("*.html")
        if "_static" not in p.parts and 'class="math notranslate nohighlight"' in p.read_text(encoding="utf-8")
    )


# -- the tests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("page", ["index", NOTEBOOK_PAGE])
def test_page_renders_without_console_errors(site, browser, lang, page):
    errors = _open(browser, f"{site}/{lang}/{page}.html")
    assert not errors, f"{lang}/{page}.html logs console errors: {errors}"
    heading = browser.execute_script("return document.querySelector('main h1, article h1').textContent")
    assert heading.strip(), f"{lang}/{page}.html shows no title"
    if page == "index":
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SHOTS / f"index-{lang}.png"))


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_display_math_is_typeset(site, browser, lang):
    pages = _pages_with_display_math(lang)
    if not pages:
        pytest.skip("no page of the book has display math yet")
    errors = _open(browser, f"{site}/{lang}/{pages[0]}.html")
    assert not errors, errors
    blocks = browser.execute_script("return document.querySelectorAll('div.math').length")
    _wait(browser, f"return document.querySelectorAll('div.math mjx-container').length >= {blocks}",
          what=f"MathJax to typeset the {blocks} display equations of {pages[0]}")
    raw = browser.execute_script(
        "return Array.from(document.querySelectorAll('div.math'))"
        ".filter(d => !d.querySelector('mjx-container')).map(d => d.textContent)")
    assert not raw, f"untypeset display math on {pages[0]}: {raw}"
    text = browser.execute_script("return document.querySelector('main').innerText")
    assert "$$" not in text and "\\[" not in text, f"raw TeX left on {pages[0]}"


def test_language_switcher_round_trip(site, browser):
    _open(browser, f"{site}/en/{NOTEBOOK_PAGE}.html")
    browser.find_element("css selector", "nav.yang-langswitch a[hreflang='zh-CN']").click()
    _wait(browser, f"return location.pathname.endsWith('/zh_CN/{NOTEBOOK_PAGE}.html')", what="the zh page")
    assert browser.execute_script("return document.documentElement.lang") == "zh-CN"
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SHOTS / f"{NOTEBOOK_PAGE}-zh_CN.png"))
    browser.find_element("css selector", "nav.yang-langswitch a[hreflang='en']").click()
    _wait(browser, f"return location.pathname.endsWith('/en/{NOTEBOOK_PAGE}.html')", what="the en page")
    assert browser.execute_script("return document.documentElement.lang") == "en"


def _search(browser, site: str, lang: str, word: str) -> list[str]:
    errors = _open(browser, f"{site}/{lang}/search.html?q={urllib.request.quote(word)}")
    assert not errors, errors
    return _wait(
        browser,
        "const r = document.querySelectorAll('#search-results li a, ul.search li a');"
        "return r.length ? Array.from(r).map(a => a.getAttribute('href')) : null;",
        what=f"search results for {word!r} in {lang}",
    )


def test_search_finds_an_english_word(site, browser):
    hits = _search(browser, site, "en", "notebook")
    assert any("running" in hit for hit in hits), hits


def test_search_finds_a_chinese_word(site, browser):
    index = (HTML / "zh_CN" / "searchindex.js").read_text(encoding="utf-8")
    terms = json.loads(index[index.index("(") + 1: index.rindex(")")])["terms"]
    # a term maps to a document index or a list of them; an incremental build leaves stale terms
    # with an empty list behind
    words = sorted(term for term, docs in terms.items() if len(CJK.findall(term)) >= 2 and docs != [])
    if not words:
        pytest.skip("the zh search index has no Chinese word yet: no page is translated")
    hits = _search(browser, site, "zh_CN", words[0])
    assert hits, f"searching {words[0]!r} found nothing"


def test_download_pdf_link_resolves(site, browser):
    for lang in ("en", "zh_CN"):
        _open(browser, f"{site}/{lang}/{NOTEBOOK_PAGE}.html")
        link = browser.find_element("css selector", "a.yang-pdf-link")
        href = link.get_attribute("href")
        assert href.endswith(f"/{lang}/yangbook-{lang}.pdf"), href
        if not (HTML / lang / f"yangbook-{lang}.pdf").exists():
            pytest.skip(f"the {lang} PDF is not built: `make pdf` (after `make pdf-deps`) puts it next to the HTML")
        assert _fetch(href)[:5] == b"%PDF-"


def test_notebook_page_offers_ipynb_and_colab(site, browser):
    import jupytext
    import nbformat

    _open(browser, f"{site}/en/{NOTEBOOK_PAGE}.html")
    hrefs = browser.execute_script("return Array.from(document.querySelectorAll('a')).map(a => a.href)")
    # the executed notebook, outputs included
    download = next(h for h in hrefs if h.endswith(f"_sources/{NOTEBOOK_PAGE}.ipynb"))
    executed = nbformat.reads(_fetch(download).decode("utf-8"), as_version=4)
    nbformat.validate(executed)
    assert any(cell.get("outputs") for cell in executed.cells if cell.cell_type == "code")
    # Colab opens the committed .ipynb twin of the page from the repository
    colab = [h for h in hrefs if h.startswith("https://colab.research.google.com/github/")]
    assert colab, "no Open-in-Colab link"
    match = re.fullmatch(r"https://colab\.research\.google\.com/github/[^/]+/[^/]+/blob/[^/]+/(.+)", colab[0])
    assert match and match.group(1) == f"book/{NOTEBOOK_PAGE}.ipynb", colab[0]
    twin = ROOT / match.group(1)
    assert twin.exists(), f"{twin} is missing: Colab would find nothing"
    notebook = nbformat.read(twin, as_version=4)
    nbformat.validate(notebook)
    source = jupytext.read(BOOK / f"{NOTEBOOK_PAGE}.md")
    code = lambda nb: [c.source for c in nb.cells if c.cell_type == "code"]  # noqa: E731
    assert code(notebook) == code(source), f"{twin} is out of date with its .md: rebuild the HTML"
    if (ROOT / ".git").exists():
        tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(twin)], cwd=ROOT,
                                 capture_output=True).returncode == 0
        assert tracked, f"{twin.relative_to(ROOT)} is not committed: Colab reads it from the repository"


def test_code_cells_have_copy_buttons(site, browser):
    _open(browser, f"{site}/en/{NOTEBOOK_PAGE}.html")
    cells, buttons = browser.execute_script(
        "return [document.querySelectorAll('div.cell_input pre').length,"
        " document.querySelectorAll('div.cell_input button.copybtn').length]")
    assert cells and buttons == cells, f"{buttons} copy buttons for {cells} code cells"


def _contrast(rgb1, rgb2) -> float:
    def lum(rgb):
        def ch(c):
            c /= 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b = (ch(c) for c in rgb[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    hi, lo = sorted((lum(rgb1), lum(rgb2)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


_COLOURS = """
const parse = c => c.match(/[\\d.]+/g).map(Number);
const background = el => {
  for (; el; el = el.parentElement) {
    const c = parse(getComputedStyle(el).backgroundColor);
    if (c.length < 4 || c[3] > 0) return c;
  }
  return [255, 255, 255];
};
return Array.from(document.querySelectorAll('div.cell_output pre')).map(
  el => [parse(getComputedStyle(el).color), background(el)]);
"""


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_notebook_outputs_readable(site, browser, mode):
    _open(browser, f"{site}/en/{NOTEBOOK_PAGE}.html")
    browser.execute_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    _open(browser, f"{site}/en/{NOTEBOOK_PAGE}.html")
    assert browser.execute_script("return document.documentElement.dataset.theme") == mode
    pairs = browser.execute_script(_COLOURS)
    assert pairs, "the page shows no text output"
    worst = min(_contrast(fg, bg) for fg, bg in pairs)
    if mode == "dark":
        SHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SHOTS / f"{NOTEBOOK_PAGE}-en-dark.png"))
    browser.execute_script("localStorage.clear();")
    assert worst >= 4.5, f"{mode} mode: notebook output text has contrast {worst:.2f} (< 4.5, WCAG AA)"
    if mode == "dark":
        images = browser.execute_script(
            "return Array.from(document.querySelectorAll('div.cell_output img'))"
            ".map(i => getComputedStyle(i).backgroundColor)")
        assert all(bg == "rgb(255, 255, 255)" for bg in images), images


def _glossary():
    import sys
    sys.path.insert(0, str(BOOK / "_ext"))
    import glossary
    return glossary.terms()


def test_chinese_search_finds_every_glossary_term(site, browser):
    """The reader types a term of the glossary whole; the pages that use it come back, the page of its
    first use among them."""
    missing = []
    for en, zh, _, first in _glossary():
        if not CJK.search(zh):
            continue
        hits = _search(browser, site, "zh_CN", zh)
        target = re.search(r"\]\(([^)]+)\.md\)", first).group(1)
        if not any(h.split("?")[0].split("#")[0].endswith(f"{target}.html") for h in hits):
            missing.append(f"{zh} ({en}): {len(hits)} results, none is {target}.html")
    assert not missing, "\n".join(missing)


# The theme's interface on a Chinese page, against the book's catalogues in book/_ext/locale/zh_CN/:
# the tooltips as the server sends them (the theme's scripts then move some of them into Bootstrap's
# own storage), the search box, the footer and the byline as the reader sees them.
ZH_TOOLTIPS = ("颜色模式", "跟随系统", "浅色", "深色", "显示或隐藏目录栏", "显示或隐藏本页目录", "在 Colab 中打开",
               "打印为 PDF", "全屏模式")
EN_INTERFACE = ("Search...", "Color mode", "System Settings", "Toggle primary sidebar", "Toggle secondary sidebar",
                "Launch on Colab", "Print to PDF", "列印成 PDF", "© Copyright")


def test_chinese_pages_speak_chinese_in_the_interface(site, browser):
    url = f"{site}/zh_CN/{NOTEBOOK_PAGE}.html"
    sent = _fetch(url).decode("utf-8")
    chrome = re.sub(r"<article.*?</article>", "", sent, flags=re.S)          # the page's own text aside
    titles = set(re.findall(r'(?:title|aria-label|placeholder)="([^"]*)"', chrome))
    missing = [t for t in ZH_TOOLTIPS if t not in titles]
    assert not missing, f"tooltips not in Chinese: {missing}"
    english = [t for t in EN_INTERFACE if t in chrome]
    assert not english, f"English interface strings on a Chinese page: {english}"
    errors = _open(browser, url)
    assert not errors, errors
    placeholder = browser.execute_script("return document.querySelector('input[type=search]').placeholder")
    assert placeholder == "搜索……", placeholder
    footer = browser.execute_script("return document.querySelector('footer .copyright').innerText")
    assert "版权所有" in footer and "Copyright" not in footer, footer
    byline = browser.execute_script("return (document.querySelector('.component-author') || {}).innerText || ''")
    assert byline.startswith("作者") and "：" not in byline, byline
    # Everything else the interface shows or announces, with the pages' own text (the article, the titles in
    # the navigation, the previous/next links) taken out: no English word beyond names and file types.
    interface = browser.execute_script("""
        const body = document.body.cloneNode(true);
        body.querySelectorAll('article, script, style, nav.bd-docs-nav, .bd-sidebar-secondary, .prev-next-area,'
                              + ' .yang-langswitch a, .yang-langswitch span').forEach(e => e.remove());
        const labels = [...body.querySelectorAll('[title], [aria-label], [placeholder], [alt]')].map(e =>
            [e.getAttribute('title'), e.getAttribute('aria-label'), e.getAttribute('placeholder'), e.getAttribute('alt')]
            .filter(Boolean).join(' '));
        return body.textContent + ' ' + labels.join(' ');""")
    words = set(re.findall(r"[A-Za-z][A-Za-z.-]*", interface))
    allowed = {"Yang", "Colab", "PDF", "pdf", "md", "ipynb", "Ctrl", "K", "GitHub"}
    assert words <= allowed, f"English on the interface of a Chinese page: {sorted(words - allowed)}"


# -- the Chinese search, query by query (book/_ext/searchfix.py) --------------------------------
# What a reader types: whole terms, run together without spaces, and a one-character word beside a
# two-character one. Each must find every page whose text holds all of its words.
ZH_QUERIES = ("唇形同步检测", "深度伪造检测器", "眨眼频率", "伪造视频", "眨眼 帧", "帧")

_RUN_QUERIES = """
const queries = arguments[0];
return queries.map(q => {
  const parsed = Search._parseQuery(q);
  const found = Search._performSearch(...parsed).map(r => r[0]);
  return [q, [...parsed[1]], [...new Set(found)]];
});
"""


def _zh_page_texts() -> dict[str, str]:
    """docname -> the text of the page's article (what the index was built from), tags stripped."""
    root = HTML / "zh_CN"
    texts = {}
    for page in root.rglob("*.html"):
        if "_static" in page.parts or page.name in ("search.html", "genindex.html"):
            continue
        html = page.read_text(encoding="utf-8")
        m = re.search(r"<article.*?</article>", html, flags=re.S)
        if not m:
            continue
        text = re.sub(r"<(script|style)\b.*?</\1>", " ", m.group(0), flags=re.S)
        text = re.sub(r"<[^>]+>", "", text)
        texts[str(page.relative_to(root).with_suffix(""))] = text
    return texts


def _run_zh_queries(site, browser, queries):
    errors = _open(browser, f"{site}/zh_CN/search.html")
    assert not errors, errors
    _wait(browser, "return typeof Search !== 'undefined' && Search.hasIndex()", what="the zh search index")
    return browser.execute_script(_RUN_QUERIES, list(queries))


def test_chinese_search_segments_the_query(site, browser):
    texts = _zh_page_texts()
    results = _run_zh_queries(site, browser, ZH_QUERIES)
    bad = []
    for query, words, found in results:
        expected = {doc for doc, text in texts.items() if all(w in text for w in query.split())}
        missing = expected - set(found)
        if not found or missing:
            bad.append(f"{query!r} (cut as {words}): {len(found)} pages; misses {sorted(missing)}")
    assert not bad, "\n".join(bad)
    cut = {query: words for query, words, _ in results}
    assert cut["唇形同步检测"] == ["唇形同步", "检测"], cut
    assert cut["眨眼频率"] == ["眨眼", "频率"], cut


def test_chinese_search_finds_every_pair_of_glossary_terms(site, browser):
    """Two glossary terms typed together (with a space, or run together) find every page that holds both."""
    texts = _zh_page_texts()
    terms = sorted({zh for _, zh, _, _ in _glossary() if CJK.search(zh) and " " not in zh})
    pairs = [(a, b) for i, a in enumerate(terms) for b in terms[i + 1:]]
    pairs = [(a, b) for a, b in pairs if any(a in t and b in t for t in texts.values())]
    assert len(pairs) > 100, f"only {len(pairs)} pairs of glossary terms share a page"
    queries = [f"{a} {b}" for a, b in pairs] + [f"{a}{b}" for a, b in pairs]
    bad = []
    for query, words, found in _run_zh_queries(site, browser, queries):
        a, b = query.split() if " " in query else next((a, b) for a, b in pairs if a + b == query)
        expected = {doc for doc, text in texts.items() if a in text and b in text}
        missing = expected - set(found)
        if missing:
            bad.append(f"{query!r} (cut as {words}): misses {sorted(missing)}")
    assert not bad, f"{len(bad)} of {len(queries)} queries miss pages:\n" + "\n".join(bad[:30])


# -- the 404 page (book/404.md, sphinx-notfound-page) -----------------------------------------
class _NotFoundHandler(_QuietHandler):
    """Answers a missing address as Read the Docs does: status 404, the language's 404.html."""

    def send_error(self, code, message=None, explain=None):
        lang = self.path.lstrip("/").split("/", 1)[0]
        page = Path(self.directory) / lang / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize("lang, title", [("en", "Page not found"), ("zh_CN", "页面未找到")])
def test_missing_page_shows_the_404_page_at_any_depth(html_dir, browser, lang, title):
    if not (html_dir / lang / "404.html").exists():
        pytest.fail(f"{lang}/404.html was not built (book/404.md, sphinx-notfound-page)")
    handler = functools.partial(_NotFoundHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        url = f"{base}/{lang}/deepfake/no/such/chapter.html"
        errors = [e for e in _open(browser, url) if "chapter.html" not in e["message"]]
        assert not errors, f"the 404 page logs errors at {url}: {errors}"
        heading = browser.execute_script("return document.querySelector('article h1').textContent")
        assert title in heading, heading
        # the theme's stylesheet reached the page (a relative link would have missed it at this depth)
        sheets = browser.execute_script("return document.styleSheets.length")
        assert sheets >= 5, f"only {sheets} stylesheets loaded"
        links = browser.execute_script(
            "return Array.from(document.querySelectorAll('article a[href], nav a[href], link[href]'))"
            ".map(a => a.getAttribute('href'))")
        relative = [h for h in links if not h.startswith(("/", "#", "http"))]
        assert not relative, f"relative links on the 404 page: {relative}"
        for href in {h for h in links if h.startswith("/") and not h.endswith(".pdf")}:
            assert _fetch(base + href.split("#")[0]), href
    finally:
        server.shutdown()
        server.server_close()


# -- the reader's view of results: widths, alt text, captions (issue: the reader's view) ------------
RESULT_PAGES = ["deepfake/benchmark", "transformer/experiments", "deepfake/blink", "deepfake/frequency", "tool"]
_LAYOUT = """
const article = document.querySelector('article.bd-article');
const box = article.getBoundingClientRect();
const scrolls = el => {  // an ancestor inside the article that scrolls sideways
  for (let a = el.parentElement; a && a !== article; a = a.parentElement) {
    const o = getComputedStyle(a).overflowX;
    if ((o === 'auto' || o === 'scroll') && a.getBoundingClientRect().right <= box.right + 1) return true;
  }
  return false;
};
const wide = [];
for (const el of article.querySelectorAll('div.cell_output pre, div.cell_output table, table.docutils, div.cell_output img, figure img')) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.right > box.right + 1 && !scrolls(el))
    wide.push(el.tagName + ' ' + Math.round(r.width) + 'px: ' + (el.textContent || el.alt || '').slice(0, 60));
}
const images = [...article.querySelectorAll('img')];
const noAlt = images.filter(i => !i.alt || i.alt === i.getAttribute('src') || i.alt.includes('_images/')).map(i => i.src);
const noCaption = images.filter(i => !(i.closest('figure') && i.closest('figure').querySelector('figcaption'))).map(i => i.alt || i.src);
const shrunk = images.filter(i => i.getAttribute('width') && i.clientWidth < 0.97 * Number(i.getAttribute('width')))
  .map(i => i.alt.slice(0, 50) + ' ' + i.clientWidth + '/' + i.getAttribute('width'));
return {wide, noAlt, noCaption, shrunk, tables: article.querySelectorAll('table').length};
"""


@pytest.mark.parametrize("width", [1400, 400])
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("page", RESULT_PAGES)
def test_results_fit_their_column_and_figures_are_captioned(site, browser, page, lang, width):
    """No output block, table or image runs past the text column unless it scrolls sideways inside it;
    every image has alt text and a caption; at 1400 px no figure is shrunk below its drawn size (so
    its 9.5-pt labels read at that size). A screenshot of the whole page goes to _build/browser/."""
    browser.set_window_size(width, 1000)
    try:
        errors = _open(browser, f"{site}/{lang}/{page}.html")
        assert not errors, errors
        found = browser.execute_script(_LAYOUT)
        SHOTS.mkdir(parents=True, exist_ok=True)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, min(height, 16000))
        browser.save_screenshot(str(SHOTS / f"{lang}-{page.split('/')[-1]}-{width}.png"))
    finally:
        browser.set_window_size(1280, 1000)
    assert found["tables"], f"{page}: no table"
    assert not found["wide"], f"{lang}/{page} at {width} px, wider than the column with no scroll: {found['wide']}"
    assert not found["noAlt"], f"{lang}/{page}: images without alt text: {found['noAlt']}"
    assert not found["noCaption"], f"{lang}/{page}: images without a caption: {found['noCaption']}"
    if width == 1400:
        assert not found["shrunk"], f"{lang}/{page}: figures shrunk below their size: {found['shrunk']}"
