.PHONY: demo test bench lint

demo:  ## set up .venv and train the X-vs-O CNN, writing pictures to out/demo
	bash scripts/demo.sh

test:  ## set up .venv, lint and run the test suite
	bash scripts/test.sh

bench:  ## minigrad next to PyTorch CPU, as ratios
	bash scripts/setup.sh && .venv/bin/python -m bench

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
