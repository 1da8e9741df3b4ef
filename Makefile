# classdyad: `make demo` runs the replica study end to end; `make test` runs every check.
# Both create the virtual environment (.venv) and install what they need on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-output
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo serve test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/classdyad demo --out $(DEMO_DIR)
	$(BIN)/classdyad analyze $(DEMO_DIR)/study.sqlite --out $(DEMO_DIR)/results.json
	$(BIN)/classdyad report $(DEMO_DIR)/study.sqlite --results $(DEMO_DIR)/results.json --out $(DEMO_DIR)/report.html

# the web application on the demo study (made first when absent); add the first admin with
#   .venv/bin/classdyad user add $(DEMO_DIR)/study.sqlite admin --role admin
serve: $(STAMP)
	test -f $(DEMO_DIR)/study.sqlite || $(BIN)/classdyad demo --out $(DEMO_DIR)
	$(BIN)/classdyad serve $(DEMO_DIR)/study.sqlite --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
