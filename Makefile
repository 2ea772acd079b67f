# gorpcx build and test entry points. `make test` is what CI runs.

GO        ?= go
PKGS      ?= ./...
FUZZTIME  ?= 30s
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all test contrib-check vet fmt-check bench bench-compare fuzz cover lint demo

all: test

# The modules of contrib/ (each a directory with its own go.mod, such as
# contrib/nats), and the examples that are modules of their own because
# they import one (examples/electrum-server, examples/interop-server):
# the SDK's ./... does not reach them.
CONTRIB_MODULES := $(patsubst %/go.mod,%,$(wildcard contrib/*/go.mod examples/*/go.mod))

## test: formatting check, go vet, and the whole test suite under the race
## detector, for the SDK, the benchmark module in bench/, every module
## in contrib/ and every example that is a module of its own.
test: fmt-check vet
	$(GO) test -race -count=1 $(PKGS)
	$(MAKE) -C bench check
	$(MAKE) contrib-check

## contrib-check: go vet and the tests under the race detector of every
## module in contrib/ and examples/.
contrib-check:
	@set -e; for m in $(CONTRIB_MODULES); do \
		echo "== $$m"; \
		(cd $$m && $(GO) vet ./... && $(GO) test -race -count=1 ./...); \
	done

fmt-check:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt -l lists unformatted files:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## bench: every benchmark, with allocation counts.
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## fuzz: every Fuzz target of every package, FUZZTIME each (go test fuzzes one target at a time).
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg; \
		done; \
	done

## cover: statement coverage per package.
cover:
	$(GO) test -count=1 -cover $(PKGS)

## lint: staticcheck at a pinned version, on the SDK and every module in contrib/.
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)
	@set -e; for m in $(CONTRIB_MODULES); do \
		echo "== staticcheck $$m"; \
		(cd $$m && $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...); \
	done

## demo: a server and a client on loopback, showing the main features step by step.
demo:
	$(GO) run ./examples/demo

## bench-compare: the comparison against other JSON-RPC servers and the
## transport's limit (writes docs/performance.md and its chart; ~31 minutes).
bench-compare:
	$(MAKE) -C bench compare
