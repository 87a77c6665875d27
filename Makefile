# vsphere-integrator: `make demo` shows it working, `make test` proves it.
GO      ?= go
CHARM   := vsphere-integrator.charm
BIN     := build/bin/vsphere-integrator
FAKE    := build/bin/fakejuju
# The charm binary runs on any Ubuntu base: static, reproducible, stripped.
GOBUILD := CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w"

.PHONY: all build charm fakejuju test test-unit test-consumer lint demo bench install clean
all: charm

build:
	$(GOBUILD) -o $(BIN) ./cmd/vsphere-integrator

charm: build
	$(GO) run ./cmd/charmpack -src . -bin $(BIN) -o $(CHARM)

fakejuju:
	$(GO) build -o $(FAKE) ./cmd/fakejuju

# Per-event cost of the packed charm, beside a trivial floor binary.
bench: charm fakejuju
	$(GO) build -o build/bin/floor ./cmd/charmbench/floor
	$(GO) build -o build/bin/rss ./cmd/charmbench/rss
	$(GO) run ./cmd/charmbench -charm $(CHARM) -fakejuju $(FAKE) -floor build/bin/floor -rss build/bin/rss -runs 20

# The packed charm through a whole deployment's life, against a simulated
# Juju and vCenter: the first thing to run on a new machine.
demo: charm fakejuju
	$(GO) run ./cmd/demo -charm $(CHARM) -fakejuju $(FAKE)

# Unit, simulator and process tests of the charm module, then the consumer
# and end-to-end tests, which live in their own module (tests/) so the
# Kubernetes dependencies stay out of the charm's go.mod.
test: test-unit test-consumer

test-unit:
	$(GO) test -count=1 ./...

test-consumer:
	cd tests && $(GO) test -count=1 ./...

lint:
	@out=$$(gofmt -l cmd internal tests); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd tests && $(GO) vet ./...

# For `charmcraft pack` (charmcraft.yaml's make part).
install: build
	mkdir -p $(DESTDIR)/bin
	cp $(BIN) $(DESTDIR)/bin/
	cp -r dispatch hooks actions metadata.yaml config.yaml actions.yaml README.md icon.svg $(DESTDIR)/

clean:
	rm -rf build $(CHARM)
