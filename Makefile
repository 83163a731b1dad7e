# Two commands for a fresh machine (see README):  make book   and   make test
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup book test bench replicate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev,book]"
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

## Run the tests: doctests of the package, unit and property tests, every notebook, the book build.
test: setup
	$(PY) -m pytest

## MC-SF speed on 10,000 LMSYS-like requests.
bench: setup
	$(PY) benchmarks/bench_mcsf.py

clean:
	rm -rf _build .pytest_cache .hypothesis
