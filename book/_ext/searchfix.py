"""The Chinese edition's search: a stemmer that exists, single characters that matter, and a query
segmented in the browser against the index's own terms.

1. Sphinx's Chinese search language stems the Latin words of a page with the English Snowball stemmer
   and ships ``english-stemmer.js`` for the browser, but its ``language_data.js`` then says
   ``window.Stemmer = ChineseStemmer;``, a name no script defines: the page logs "ChineseStemmer is not
   defined" and finds nothing. The JS name is built from ``language_name``; the subclass names the
   stemmer it actually ships.
2. The index is cut by jieba (with the glossary as a user dictionary, ``glossary.py``), which keeps
   words whole, and Sphinx drops every one-character word. So 帧 (frame) was never indexed, and a query
   that holds it found nothing. Here every Chinese character of a word is indexed as well, except the
   function characters of ``ZH_STOPWORDS`` (的, 了, 和 …), which the browser also drops from a query.
3. The browser split a query only at spaces and punctuation, so 唇形同步检测 was one word that no page
   holds. ``SPLITTER_JS`` (Sphinx's ``js_splitter_code``, written into the built ``language_data.js``)
   cuts each run of Chinese characters by longest match against the terms of the loaded index, falling
   back to single characters; Latin words are split as before.

Checked against Sphinx 9.0's ``searchtools.js``: ``splitQuery`` is called from ``Search.query`` after
the index is loaded, so ``Search._index`` is there; every term of a query must be found on a page.
"""
from __future__ import annotations

import re

from sphinx.application import Sphinx
from sphinx.search import languages
from sphinx.search.zh import SearchChinese

__version__ = "2.0"

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

# Function characters: they carry no topic, appear on every page, and a query's are dropped.
ZH_STOPWORDS = frozenset(
    "的 了 和 与 及 或 是 在 有 也 都 就 而 把 被 这 那 之 其 个 为 从 对 以 于 等 并 但 又 还 很 更 最 "
    "不 没 会 能 可 要 让 给 到 着 过 由 它 他 她 我 你 们 此 每 各 该 所 如 若 则 即 因 将 向 比 再 才 "
    "只 仍 已 得 地 吗 呢 吧 啊 即 且 既 却 么".split())

SPLITTER_JS = r"""
/* yangbook (book/_ext/searchfix.py): a Chinese query is cut by longest match against the terms of
   the loaded index (text and titles), falling back to single characters; other words as Sphinx does. */
var splitQuery = (query) => {
  const index = (typeof Search !== "undefined" && Search._index) || { terms: {}, titleterms: {} };
  if (index !== splitQuery._index) {
    let longest = 1;
    for (const table of [index.terms || {}, index.titleterms || {}])
      for (const term of Object.keys(table))
        if (/\p{Script=Han}/u.test(term)) longest = Math.max(longest, term.length);
    splitQuery._index = index;
    splitQuery._longest = longest;
  }
  const has = (table, word) => Object.prototype.hasOwnProperty.call(table || {}, word);
  const known = (word) => has(index.terms, word) || has(index.titleterms, word);
  const words = [];
  for (const chunk of query.split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu)) {
    for (const run of chunk.match(/\p{Script=Han}+|[^\p{Script=Han}]+/gu) || []) {
      if (!/\p{Script=Han}/u.test(run)) {
        words.push(run);
        continue;
      }
      const chars = Array.from(run);
      for (let i = 0; i < chars.length; ) {
        let n = Math.min(splitQuery._longest, chars.length - i);
        while (n > 1 && !known(chars.slice(i, i + n).join(""))) n--;
        words.push(chars.slice(i, i + n).join(""));
        i += n;
      }
    }
  }
  return words.filter((word) => word);
};
"""


class SearchChineseBook(SearchChinese):
    language_name = "English"  # -> window.Stemmer = EnglishStemmer (english-stemmer.js)
    stopwords = SearchChinese.stopwords | ZH_STOPWORDS
    js_splitter_code = SPLITTER_JS

    def split(self, input: str) -> list[str]:
        words = super().split(input)
        singles = [ch for word in words if len(word) > 1 and HAN.match(word)
                   for ch in word if HAN.match(ch) and ch not in ZH_STOPWORDS]
        return words + singles

    def word_filter(self, stemmed_word: str) -> bool:
        if len(stemmed_word) == 1:
            return bool(HAN.match(stemmed_word)) and stemmed_word not in ZH_STOPWORDS
        return stemmed_word not in ZH_STOPWORDS


def setup(app: Sphinx) -> dict:
    if SearchChinese.js_stemmer_rawcode == "english-stemmer.js":
        languages["zh"] = SearchChineseBook
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
