# The README commands.  `make test` and `make demo` do all set-up on a fresh Debian machine
# with Python 3.10+: virtual environment, native build, Redis binaries (cached), servers.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
DEMO_ARGS ?=
INSTALLED := $(VENV)/.hxredis-installed
BUILT := $(VENV)/.hxredis-built
FASTCORE := $(wildcard src/_fastcore/*.pyx src/_fastcore/*.pxd src/_fastcore/*.h)

.PHONY: all venv build provision test demo bench fuzz faults lint format clean

all: test

venv: $(INSTALLED)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Editable install with the dev extra; reinstalled when the build inputs change.  The install
# compiles the extension in place, so it also stands for a build of the current sources.
$(INSTALLED): $(PY) pyproject.toml setup.py
	$(PY) -m pip install --quiet 'setuptools>=77' 'Cython>=3.0' 'numpy>=2.0'  # for `make build`
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(BUILT)

# Rebuild the extension in place only when a Cython source changed since the last build.
build: $(BUILT)

$(BUILT): $(FASTCORE) | $(INSTALLED)
	$(PY) setup.py --quiet build_ext --inplace
	touch $@

provision: $(INSTALLED)
	$(PY) -m hxredis.cli provision

test: build provision
	$(PY) -m pytest $(PYTEST_ARGS)

demo: build provision
	$(PY) -m hxredis demo $(DEMO_ARGS)

bench: build provision
	$(PY) -m pytest bench --benchmark-only --benchmark-disable-gc --benchmark-columns=min,median,mean,ops,rounds $(PYTEST_ARGS)

fuzz: build provision
	$(PY) -m pytest tests -m "" -k "fuzz or arbitrary" --hypothesis-profile=fuzz $(PYTEST_ARGS)
	$(PY) -m pytest tests -m slow $(PYTEST_ARGS)

# Long fault runs under load (HXREDIS_SOAK_SECONDS per server kind, default 20).
faults: build provision
	$(PY) -m pytest tests/faults -m soak $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

format: $(INSTALLED)
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

clean:
	rm -rf build dist *.egg-info src/*.egg-info src/_fastcore/*.c src/_fastcore/*.so .pytest_cache .benchmarks
