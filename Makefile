# interwild_mm — newcomer entry points. See README.md and DEVELOPERS.md.
#   make test        set up .venv (first time: ~10-30 min, mostly the mmcv
#                    build) and run the test suite
#   make quickstart  set up .venv and run the quick demo (tools/quickstart.py)
SHELL := /bin/bash
VENV_PY := .venv/bin/python
PYTEST_ARGS ?= -q -ra -p no:cacheprovider --timeout=900

.PHONY: help setup test quickstart clean distclean

help:
	@echo "make setup       create/refresh .venv (idempotent; seconds when up to date)"
	@echo "make test        setup + run the test suite (pytest tests $(PYTEST_ARGS))"
	@echo "make quickstart  setup + run tools/quickstart.py"
	@echo "make clean       remove caches and build outputs (keeps .venv)"
	@echo "make distclean   clean + remove .venv (the mmcv wheel cache in ~/.cache is kept)"

setup:
	@bash tools/setup_env.sh

test: setup
	$(VENV_PY) -m pytest tests $(PYTEST_ARGS)

quickstart: setup
	$(VENV_PY) tools/quickstart.py

clean:
	rm -rf build dist *.egg-info .pytest_cache
	find . -path ./.venv -prune -o -type d -name __pycache__ -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf .venv
