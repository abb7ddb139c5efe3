"""Make Sphinx 9.0's Chinese search work in the browser.

Sphinx's Chinese search language stems the Latin words of a page with the English Snowball stemmer
and ships ``english-stemmer.js`` for the browser, but its ``language_data.js`` then says
``window.Stemmer = ChineseStemmer;``, a name no script defines: the page logs "ChineseStemmer is not
defined" and the zh search page finds nothing. The JS name is built from ``language_name``; this
subclass names the stemmer it actually ships. The Python side (jieba for Chinese, the English stemmer
for Latin words) is unchanged.
"""
from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.search import languages
from sphinx.search.zh import SearchChinese

__version__ = "1.0"


class SearchChineseEnglishStemmer(SearchChinese):
    language_name = "English"  # -> window.Stemmer = EnglishStemmer (english-stemmer.js)


def setup(app: Sphinx) -> dict:
    if SearchChinese.js_stemmer_rawcode == "english-stemmer.js" and SearchChinese.language_name != "English":
        languages["zh"] = SearchChineseEnglishStemmer
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
