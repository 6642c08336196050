# Two commands do everything on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JUPYTER_PLATFORM_DIRS := 1
export PYTHONHASHSEED := 0

.PHONY: venv demo test lint types pytest sample-logs system-deps clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name kit --display-name "kit (police lookup audit)"
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the browser tests and screenshots need (Chromium, CJK fonts).
system-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

demo: $(STAMP)
	$(BIN)/kit demo --out demo_out

lint: $(STAMP)
	$(BIN)/ruff check kit tests bench
	$(BIN)/ruff format --check kit tests bench

types: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

test: system-deps lint types pytest

# Regenerate the committed sample data (byte-identical to what is committed).
sample-logs: $(STAMP)
	rm -rf sample_logs.new
	$(BIN)/python -m kit.synth sample_logs.new --seed 2023 --officers 60 --months 3 --start 2023-08
	cp sample_logs/README.md sample_logs/.gitattributes sample_logs.new/
	rm -rf sample_logs && mv sample_logs.new sample_logs

clean:
	rm -rf $(VENV) demo_out .pytest_cache .mypy_cache .ruff_cache
