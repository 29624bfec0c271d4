# The two commands a newcomer needs: `make demo` and `make test`.
# Both create .venv, install gridpos into it and, when run as root on Debian,
# install the Debian packages the card reader stack and the fonts need.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# libpcsclite-dev + swig build pyscard; pcscd + vsmartcard-vpcd are the virtual card
# reader the card emulator plugs into; fonts-wqy-microhei draws Chinese screens and receipts.
# postgresql: the tests start a throwaway PostgreSQL cluster for the station's second backend.
DEBIAN_PACKAGES := libpcsclite-dev swig pcscd vsmartcard-vpcd fonts-wqy-microhei postgresql
# make deb (and tests/test_package.py) build with the system's python3: pip, and headers for
# the libraries compiled from source (pyscard, evdev).
DEBIAN_PACKAGES += python3-pip python3-dev
# The package test checks it with lintian, builds it with dpkg-deb and verifies the unit with
# systemd-analyze.
DEBIAN_PACKAGES += lintian dpkg-dev systemd
# chromium + chromium-driver run the management console's browser tests (Selenium).
DEBIAN_PACKAGES += chromium chromium-driver

.PHONY: demo test lint debian-packages clean

demo: $(VENV)/.installed
	$(BIN)/gridpos demo

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy

debian-packages:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:" $$missing; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
	    echo "warning: missing Debian packages (run as root to install):" $$missing; \
	fi

$(VENV)/.installed: pyproject.toml | debian-packages
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[station]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | debian-packages
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis

# The Debian package (packaging/build-deb.sh, about 20 s): build/gridpos_<version>_<arch>.deb.
# tests/test_package.py builds it too, installs it into a scratch root and purges it.
.PHONY: deb
deb:
	packaging/build-deb.sh build
	-command -v lintian >/dev/null && lintian build/gridpos_*.deb
