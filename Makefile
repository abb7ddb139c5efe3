# The book's commands. `make html` builds both languages; `make test` runs the test suite.
# Both bootstrap the virtual environment in $(VENV) from requirements.txt on first use.

PYTHON3     ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
SPHINXBUILD := $(VENV)/bin/sphinx-build
SPHINXOPTS  ?= -W --keep-going -q
PIP_EXTRA   ?=
SRC   := book
BUILD := _build
ZH    := zh_CN
# The stamp names a hash of the pins, so a change of requirements.txt or pyproject.toml reinstalls.
REQ_HASH := $(shell cat requirements.txt pyproject.toml | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(REQ_HASH)
# The chapters import yangbook from this tree's code/ (ahead of any installed copy).
export PYTHONPATH := $(CURDIR)/code$(if $(PYTHONPATH),:$(PYTHONPATH))

LATEXMK_ENV := LATEXMKOPTS="-interaction=nonstopmode" LATEXOPTS="-halt-on-error"

# jupyter-cache is not safe for two concurrent writers, and en and zh share it.
.NOTPARALLEL:
.PHONY: help venv code check-code html html-en html-zh gettext po pdf pdf-en pdf-zh test bench clean clean-cache

help:
	@echo "make html   build the English and Chinese HTML into $(BUILD)/html/{en,$(ZH)}"
	@echo "make test   run the test suite (builds the book first)"
	@echo "other targets: html-en html-zh code po pdf pdf-en pdf-zh bench clean clean-cache"

# --- the environment: created once, refreshed when the pins change -----------------------------
$(STAMP):
	test -x $(PY) || $(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(PIP_EXTRA) -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

# --- literate code: the export cells of the chapters become code/yangbook ----------------------
code: $(STAMP)
	$(PY) $(SRC)/_ext/tangle.py --book $(SRC) --out code/yangbook

# --- HTML ---------------------------------------------------------------------------------------
html: html-en html-zh

html-en: code
	$(SPHINXBUILD) -b html -c . $(SPHINXOPTS) $(SRC) $(BUILD)/html/en

html-zh: code
	$(SPHINXBUILD) -b html -c . -D language=$(ZH) $(SPHINXOPTS) $(SRC) $(BUILD)/html/$(ZH)

# --- translation --------------------------------------------------------------------------------
gettext: $(STAMP)
	$(SPHINXBUILD) -b gettext -c . $(SPHINXOPTS) $(SRC) $(BUILD)/gettext

po: gettext
	$(VENV)/bin/sphinx-intl update -p $(BUILD)/gettext -l $(ZH) -d $(SRC)/locales -w 0

# --- PDF ----------------------------------------------------------------------------------------
pdf: pdf-en pdf-zh

pdf-en: code
	$(SPHINXBUILD) -b latex -c . $(SPHINXOPTS) $(SRC) $(BUILD)/latex/en
	$(MAKE) -C $(BUILD)/latex/en all-pdf $(LATEXMK_ENV)

pdf-zh: code
	$(SPHINXBUILD) -b latex -c . -D language=$(ZH) $(SPHINXOPTS) $(SRC) $(BUILD)/latex/$(ZH)
	$(MAKE) -C $(BUILD)/latex/$(ZH) all-pdf $(LATEXMK_ENV)

# --- tests and benchmarks -----------------------------------------------------------------------
test: html
	$(PY) -m pytest -q tests

bench: $(STAMP)
	$(PY) bench/run.py

# --- cleaning -----------------------------------------------------------------------------------
clean:  # keeps $(BUILD)/.jupyter_cache, so nothing re-executes
	rm -rf $(BUILD)/html $(BUILD)/latex $(BUILD)/gettext
	find $(SRC)/locales -name '*.mo' -delete

clean-cache: clean
	rm -rf $(BUILD)/.jupyter_cache
