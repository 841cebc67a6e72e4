# letta-batch: the two commands a new user needs are `make demo` and `make test`.
# Both bootstrap uv (via pip) when it is missing and install everything from uv.lock.

UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
PYTEST_ARGS ?=

.PHONY: bootstrap demo test test-all lint format typecheck

# Bytecode is compiled up front: with PYTHONDONTWRITEBYTECODE set (as on the CI machines),
# every Python process compiled every module it imported, about 3.5 s of CPU for each worker,
# emulator and CLI process the tests start (6.0 s -> 2.5 s to import the worker).
bootstrap:
	@command -v uv >/dev/null 2>&1 || test -x "$(UV)" || python3 -m pip install --user --quiet uv || python3 -m pip install --quiet uv
	@$(UV) sync --frozen --quiet --compile-bytecode
	@$(UV) run python -m compileall -q letta_batch workflows activities worker.py tests bench >/dev/null

demo: bootstrap
	@$(UV) run letta-batch demo

test: bootstrap
	@$(UV) run ruff check .
	@$(UV) run ruff format --check .
	@$(UV) run mypy
	@$(UV) run pytest $(PYTEST_ARGS)

test-all: bootstrap
	@$(UV) run pytest -m "" $(PYTEST_ARGS)

lint:
	@$(UV) run ruff check .
	@$(UV) run ruff format --check .

format:
	@$(UV) run ruff check --fix .
	@$(UV) run ruff format .

typecheck:
	@$(UV) run mypy
