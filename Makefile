# vsphere-integrator: `make demo` shows it working, `make test` proves it.
GO      ?= go
CHARM   := vsphere-integrator.charm
BIN     := build/bin/vsphere-integrator
FAKE    := build/bin/fakejuju
PACK    := build/bin/charmpack
# The architectures of manifest.yaml and charmcraft.yaml, as Juju names
# them; `make charms` builds one archive for each (tools/charmpack's tests
# check they agree; docs/packaging.md).
ARCHES  := amd64 arm64 s390x ppc64el riscv64
# Go's name for one of them: Juju and Debian say ppc64el, Go ppc64le.
goarch   = $(patsubst ppc64el,ppc64le,$(1))
# staticcheck at a fixed version, run with `go run pkg@version` so neither
# go.mod requires it.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The charm binary runs on any Ubuntu base: static, reproducible, stripped.
GOBUILD := CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w"
# The tools (pack, fake Juju, demo, bench, mdlint, the deployment driver)
# are a module of their own, tools/, so the charm's go.mod holds only what
# the charm and its unit tests import.
TOOLBUILD := GOOS= GOARCH= $(GO) -C tools build
MDLINT  := build/bin/mdlint

.PHONY: all build charm charms charmpack fakejuju test test-unit test-consumer lint demo bench install clean FORCE
all: charm

build:
	$(GOBUILD) -o $(BIN) ./cmd/vsphere-integrator

# A tool for this machine, whatever GOARCH the charm is built for.
charmpack:
	$(TOOLBUILD) -o $(CURDIR)/$(PACK) ./charmpack

# The charm for this machine's architecture (or GOARCH's, when set):
# charmpack reads the binary's and names only that one in the manifest.
charm: build charmpack
	$(PACK) -src . -bin $(BIN) -o $(CHARM)

# One charm per architecture, each with its own cross-compiled static
# binary: vsphere-integrator_amd64.charm, _arm64.charm, _s390x.charm,
# _ppc64el.charm, _riscv64.charm; each manifest names every base of
# manifest.yaml and that one architecture.
charms: $(ARCHES:%=vsphere-integrator_%.charm)

vsphere-integrator_%.charm: charmpack FORCE
	GOOS=linux GOARCH=$(call goarch,$*) $(GOBUILD) -o build/$*/vsphere-integrator ./cmd/vsphere-integrator
	$(PACK) -src . -bin build/$*/vsphere-integrator -arch $* -o $@

FORCE:

fakejuju:
	$(TOOLBUILD) -o $(CURDIR)/$(FAKE) ./fakejuju

# Per-event cost of the packed charm, beside a trivial floor binary; the
# same charm's relation hooks and quiet update-status at 10 to 5,000
# related units; one vCenter check against 1,000 to 4,000 VMs with 10 to
# 1,000 nodes (internal/vsphere BenchmarkCheckScale); what dedicated
# credentials cost beside shared ones (the leader, 5 runs an event): the
# four tables of docs/performance.md, in about 7½ minutes on 2 cores.
bench: charm fakejuju
	$(TOOLBUILD) -o $(CURDIR)/build/bin/ ./charmbench ./charmbench/floor ./charmbench/rss ./charmbench/toolclock
	build/bin/charmbench -charm $(CHARM) -fakejuju $(FAKE) -floor build/bin/floor -rss build/bin/rss -runs 20
	build/bin/charmbench -dedicated -runs 5 -charm $(CHARM) -fakejuju $(FAKE)
	build/bin/charmbench -scale 10,100,1000,5000 -runs 5 -charm $(CHARM) -fakejuju $(FAKE) -floor build/bin/floor -toolclock build/bin/toolclock
	$(GO) test -run '^$$' -bench CheckScale -benchtime 3x ./internal/vsphere > build/vcenter-bench.txt || { cat build/vcenter-bench.txt; exit 1; }
	build/bin/charmbench -vcenter build/vcenter-bench.txt

# The packed charm through a whole deployment's life, against a simulated
# Juju and vCenter: the first thing to run on a new machine.
demo: charm fakejuju
	$(TOOLBUILD) -o $(CURDIR)/build/bin/demo ./demo
	build/bin/demo -charm $(CHARM) -fakejuju $(FAKE)

# Unit, simulator and process tests of the charm module, then the consumer
# and end-to-end tests, which live in their own module (tests/) so the
# Kubernetes dependencies stay out of the charm's go.mod.
#
# go test prints each package's line in the order of the packages, so one
# slow package holds back every line after it: the two slow ones
# (tools/charmpack cross-compiles the charm, tests/e2e runs the packed charm
# through a deployment's life) run last, each announced with how long it
# takes, and with -v so that each of their tests (and each step of the
# lifecycle) shows as it ends.
test: test-unit test-consumer

test-unit:
	$(GO) test -count=1 ./...
	cd tools && $(GO) test -count=1 $$($(GO) list ./... | grep -v '/tools/charmpack$$')
	@echo "== tools/charmpack: packs the charm and cross-compiles it for $(ARCHES): about 3 minutes on 2 cores"
	cd tools && $(GO) test -count=1 -v ./charmpack

test-consumer:
	cd tests && $(GO) test -count=1 $$($(GO) list ./... | grep -v '/tests/e2e$$')
# The CSI driver's reader: a module of its own (tests/csi/go.mod says why).
	cd tests/csi && $(GO) test -count=1 ./...
	@echo "== tests/e2e: builds the charm, then runs it through a deployment's life: about 4 minutes on a busy 2-core machine, half a minute of it a vCenter that stops answering"
	cd tests && $(GO) test -count=1 -v ./e2e

# The edit loop's tier: the charm module's tests with -short, which skips
# the multi-second scale and cross-compile tests; not tests/, whose
# end-to-end run takes minutes. `make test` (and CI) runs everything.
.PHONY: test-short
test-short:
	$(GO) test -short ./...

# Besides gofmt, vet and staticcheck: both modules tidy (go.mod says what
# the code imports), every Markdown table well formed (GitHub shows a
# broken one as raw pipes), and no file citing notes that are not in the
# repository or a docs/ file that does not exist.
lint:
	@out=$$(gofmt -l cmd internal tools tests); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd tools && $(GO) vet ./...
	cd tests && $(GO) vet ./...
	cd tests/csi && $(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	cd tools && $(GO) run $(STATICCHECK) ./...
	cd tests && $(GO) run $(STATICCHECK) ./...
	cd tests/csi && $(GO) run $(STATICCHECK) ./...
	$(GO) mod tidy -diff
	cd tools && $(GO) mod tidy -diff
	cd tests && $(GO) mod tidy -diff
	cd tests/csi && $(GO) mod tidy -diff
	$(TOOLBUILD) -o $(CURDIR)/$(MDLINT) ./mdlint
	$(MDLINT) tables README.md docs/*.md
	$(MDLINT) cites

# For `charmcraft pack` (charmcraft.yaml's make part).
install: build
	mkdir -p $(DESTDIR)/bin
	cp $(BIN) $(DESTDIR)/bin/
	cp dispatch metadata.yaml config.yaml actions.yaml README.md icon.svg $(DESTDIR)/

clean:
	rm -rf build $(CHARM) $(ARCHES:%=vsphere-integrator_%.charm)
