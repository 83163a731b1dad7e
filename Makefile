# Two commands for a fresh machine (see README):  make book   and   make test
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup book check-book notebooks test bench replicate clean

# constraints.txt pins every dependency to the versions the book and the tests were checked with
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev,book]"
	$(PY) -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $(STAMP)

setup: $(STAMP)

## Build the whole book (executing every notebook; strict: any warning or cell error fails).
book: setup
	@# cached notebook outputs (and Sphinx's doctrees holding them) are only valid for the
	@# package code they ran with: any change under kvtheory/ re-executes every chapter
	@if [ ! -f _build/.jupyter_cache/kvtheory.stamp ] || \
	    [ -n "$$(find kvtheory -name '*.py' -newer _build/.jupyter_cache/kvtheory.stamp)" ]; then \
	    rm -rf _build/.jupyter_cache _build/.doctrees _build/jupyter_execute; fi
	$(VENV)/bin/jupyter-book build -W -n --keep-going .
	touch _build/.jupyter_cache/kvtheory.stamp
	@echo "The book is at $(CURDIR)/_build/html/index.html"

## The built book in a real browser (headless Chromium through Playwright): every page at
## 1280 px and 390 px; screenshots in _build/screenshots/. Run after `make book`.
check-book: setup
	KVTHEORY_BOOK_HTML=$(CURDIR)/_build/html $(PY) -m pytest tests/test_browser.py

## Runnable Jupyter notebooks (.ipynb, no outputs) of every chapter in _build/notebooks/.
notebooks: setup
	@mkdir -p _build/notebooks
	@for f in book/*.md; do \
	    case $$f in book/references.md) continue;; esac; \
	    $(VENV)/bin/jupytext --quiet --to ipynb --output _build/notebooks/$$(basename $$f .md).ipynb $$f; \
	done
	@cp -r book/data _build/notebooks/ 2>/dev/null || true
	@echo "Notebooks are in $(CURDIR)/_build/notebooks/ (open them with: $(VENV)/bin/jupyter lab _build/notebooks)"

## Run the tests: doctests of the package, unit and property tests, every notebook, the book build.
test: setup
	$(PY) -m pytest

## MC-SF speed on 10,000 LMSYS-like requests.
bench: setup
	$(PY) benchmarks/bench_mcsf.py

clean:
	rm -rf _build .pytest_cache .hypothesis
