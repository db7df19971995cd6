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
