# Go native fuzzing of the parsers that read untrusted input: each target runs
# for FUZZTIME on top of its committed seeds (testdata/fuzz/<Target>/, which
# plain `go test` also replays). A crash found is written there as a new seed.
FUZZTIME ?= 5s
FUZZ_TARGETS = \
	./internal/yamlx:FuzzParse \
	./suites:FuzzSuiteDecoder \
	./suites:FuzzJSONLDataset \
	./suites:FuzzCSVDataset \
	./analysis/gate:FuzzParse \
	./bench:FuzzReadResults

.PHONY: fuzz
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

# The memory targets of hostile inputs, measured without the race detector
# (which multiplies memory use): `suites validate` on the worst alias and
# literal files under the yamlx limits stays under 100 MB of peak RSS.
.PHONY: mem-check
mem-check:
	$(GO) test -count=1 -run '^TestValidatePeakMemory$$' -v ./cmd/yardstick
