# tally: `make run` sets up and starts the product with demo data;
# `make test` sets up and runs every test. Both install what a fresh Debian 12
# machine lacks first.
BUILD ?= build
DATA ?= ./tally-data
LISTEN ?= 127.0.0.1:8787
JOBS ?= $(shell nproc)

.PHONY: deps configure build run test bench clean

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@$(BUILD)/tally demo seed --data $(DATA) --if-empty
	@echo "admin key for this session (tally keys list / revoke to manage):"
	@$(BUILD)/tally keys create --scope admin --name make-run --data $(DATA)
	@echo "Web UI: http://$(LISTEN)/  (log in with the key above)"
	@echo "API:    http://$(LISTEN)/v1/...   e.g. curl -H 'Authorization: Bearer <key>' http://$(LISTEN)/v1/overview"
	@exec $(BUILD)/tally serve --data $(DATA) --listen $(LISTEN)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	$(BUILD)/bench/store_bench
	$(BUILD)/bench/rollups_bench
	$(BUILD)/bench/analytics_bench
	$(BUILD)/bench/ingest_bench
	$(BUILD)/bench/budget_bench
	$(BUILD)/bench/pg_ingest_bench

clean:
	rm -rf $(BUILD)
