# Beckon's everyday commands. `make test` is what CI runs (see .ci/run).
GO      ?= go
BIN     := bin/beckon
PKGS    := ./...

.PHONY: build test race bench fuzz run vet fmt clean

build:
	$(GO) build -o $(BIN) ./cmd/beckon

test:
	$(GO) test -count=1 -timeout 20m $(PKGS)

race:
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

# The benchmark suite: one table of figures beside their baselines.
bench:
	$(GO) run ./cmd/beckon-bench

# A short fuzzing pass over every decoder (FUZZTIME each; go test -fuzz
# takes one target at a time).
FUZZTIME ?= 20s
FUZZ := ./schemas:FuzzDecodeEvent ./schemas:FuzzParseTime ./schemas:FuzzEventMsgpack \
	./rules:FuzzParse ./ingest:FuzzPostEvents ./internal/visitortoken:FuzzVerify
fuzz:
	@for t in $(FUZZ); do \
		echo "== $$t"; \
		$(GO) test $${t%%:*} -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

run: build
	./$(BIN) serve

clean:
	rm -rf bin data
