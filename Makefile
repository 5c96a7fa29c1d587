# platefocus: the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --disable-pip-version-check -q -c requirements/constraints.txt
CORES ?= all

.PHONY: demo compare refocus blog screen real wholestack test browser slurm lint report docs lock clean

# Install into the project virtual environment and run the whole pipeline on the
# embedded synthetic plate.
# A run killed part-way leaves a lock: `platefocus unlock` removes it when no Snakemake
# works in this folder (never a live run's), so rerunning `make demo` resumes.
demo: $(VENV)/.installed
	$(BIN)/platefocus unlock
	$(BIN)/snakemake --cores $(CORES)

# Train and compare every architecture on the demo plate (table and figure in the report
# and the summary page).
compare: $(VENV)/.installed
	$(BIN)/platefocus unlock
	$(BIN)/snakemake --cores $(CORES) --configfile config/config.yaml config/comparison.yaml

# The published experiments (README, "Published experiments"), each on a small synthetic
# BBBC006-geometry plate of its own: ReFocus (train on z = 1, 5, 10, test on every plane,
# z = 32 in particular) and the MONAI Restormer blog (quadrant targets, an SSIM and an MSE
# Restormer, paired SSIM and counts before/after). About 30 minutes each on 2 cores.
refocus: $(VENV)/.installed
	$(BIN)/platefocus unlock
	$(BIN)/snakemake --cores $(CORES) --configfile config/config.yaml config/protocols/refocus.yaml

blog: $(VENV)/.installed
	$(BIN)/platefocus unlock
	$(BIN)/snakemake --cores $(CORES) --configfile config/config.yaml \
	  config/protocols/restormer_blog.yaml

# Train once, restore a screen: the demo plate trains, a second plate of one plane per
# field is restored with its model (config/screen.yaml).
screen: $(VENV)/.installed
	$(BIN)/platefocus unlock
	$(BIN)/snakemake --cores $(CORES) --configfile config/config.yaml config/screen.yaml

# Real pixels end to end: the cells3d confocal nuclei stack (../shared/realdata, read in
# place) cut into 4 wells, through the whole workflow (config/cells3d.yaml).
REALDATA ?= ../shared/realdata
real: $(VENV)/.installed
	test -d resources/cells3d || $(BIN)/platefocus cut-stack \
	  --stack $(REALDATA)/cells3d/nuclei.tif --output resources/cells3d --grid 2 2 --plate cells3d
	$(BIN)/platefocus unlock
	$(BIN)/snakemake --cores $(CORES) --configfile config/config.yaml config/cells3d.yaml

# A model for the whole stack (to 32 um on both sides of focus) trained on the calibrated,
# randomised synthetic plate and exported as a bioimage.io package; then the real
# z = 00 planes (../shared/realdata, read in place) restored with that package as a screen
# is (config/protocols/whole_stack.yaml, config/real_z00.yaml). About 30 minutes on 2 cores.
wholestack: $(VENV)/.installed
	$(BIN)/platefocus unlock
	$(BIN)/snakemake --cores $(CORES) --configfile config/config.yaml \
	  config/protocols/whole_stack.yaml -- all results/wholestack/models/restormer/package.zip
	$(BIN)/snakemake --cores $(CORES) --configfile config/real_z00.yaml \
	  --config 'input={"root": "$(REALDATA)/bbbc006", "layout": "bbbc006"}'

# Install the test extras (and headless Chromium for the summary-page test, when run as
# root) and run every test (unit, browser, end-to-end).
test: $(VENV)/.installed-test browser slurm
	$(BIN)/ruff check src workflow/scripts tests benchmarks
	$(BIN)/pytest -q

# Debian's chromium and chromium-driver; without root the browser test is skipped
# locally (and fails under CI=true, where it must run).
browser:
	@command -v chromedriver >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null; \
	  else echo "chromium-driver not installed: the browser test will be skipped"; fi; }

# Debian's SLURM (slurmctld, slurmd, munge) for the single-node SLURM tests; without root
# they are skipped locally (and fail under CI=true, where they must run).
slurm:
	@command -v slurmd >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	      slurmctld slurmd slurm-client munge >/dev/null; \
	  else echo "SLURM not installed: the SLURM tests will be skipped"; fi; }

report: $(VENV)/.installed
	$(BIN)/snakemake --cores $(CORES) --report report.html

# The documentation site (docs/, mkdocs.yml) into site/; the configuration and
# command-line references are generated from the schema and the parser.
docs: $(VENV)/.installed-test
	$(BIN)/mkdocs build --strict

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src workflow/scripts tests benchmarks
	$(BIN)/ruff format --check src workflow/scripts tests benchmarks
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

$(VENV)/.installed: pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e ".[train]"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) -e ".[train,test]"
	touch $@

# Re-pin every package to what is installed now.
lock:
	{ sed -n '1,2p' requirements/constraints.txt; \
	  $(BIN)/pip freeze --exclude-editable | sed 's/+cpu$$//'; } > requirements/constraints.tmp
	mv requirements/constraints.tmp requirements/constraints.txt

clean:
	rm -rf results logs resources .snakemake report.html
