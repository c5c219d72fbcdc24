# Intake: turn support mail into tickets at delivery time.
#
#   make            build milter/intake-milter, worker/intake-worker, worker/intakectl
#   make deps       install the Debian packages that are missing (as root)
#   make check      deps + AddressSanitizer/UBSan build + every test; ends "N passed, N failed"
#   make bench      benchmarks (prints figures; not part of check)
#   make fuzz       libFuzzer targets (tests/fuzz), each run FUZZ_SECONDS (default 60)
#   make demo       deps + build + a private Redis, Postfix and both daemons under .demo/
#   make demo-stop  stop what make demo started
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONFDIR ?= /etc
CC       ?= cc
PKGS     := gmime-3.0 glib-2.0 jansson hiredis libxml-2.0 sqlite3 libcurl
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SAN) -Icommon -Iworker \
	     $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lmilter -pthread -lm

# O is the object directory: build/release for installed binaries, build/asan for tests.
O        ?= build/release

COMMON   := common/log.c common/config.c common/addr.c common/html.c \
	    common/envelope.c common/redisq.c common/enqueue.c common/daemon.c
MILTER   := milter/intake-milter.c milter/mctx.c
WORKER_LIB := worker/store.c worker/store_sqlite.c worker/ticketno.c \
	    worker/template.c worker/smtp.c worker/reply.c worker/queue.c
WORKER   := worker/intake-worker.c worker/pipeline.c worker/outbox.c worker/maint.c worker/stage_decode.c \
	    worker/stage_filter.c worker/stage_thread.c worker/stage_classify.c \
	    worker/stage_store.c worker/stage_reply.c
CTL      := worker/intakectl.c
UNIT     := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c)) test_corpus \
	    test_fuzz_regressions
FUZZ_TARGETS := envelope decode config template reply

obj = $(patsubst %.c,$(O)/%.o,$(1))

.PHONY: all deps check unit bench demo demo-stop install clean asan fuzz fuzz-bins
all: milter/intake-milter worker/intake-worker worker/intakectl

milter/intake-milter: $(call obj,$(MILTER) $(COMMON))
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)
worker/intake-worker: $(call obj,$(WORKER) $(WORKER_LIB) $(COMMON))
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)
worker/intakectl: $(call obj,$(CTL) $(WORKER_LIB) $(COMMON))
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(O)/%.o: %.c $(wildcard common/*.h worker/*.h milter/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Sanitizer build used by the tests: binaries under build/asan/bin.
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
asan:
	@$(MAKE) --no-print-directory O=build/asan SAN="$(ASAN_FLAGS)" CFLAGS="-O1 -g" asan-bins
asan-bins: build/asan/bin/intake-milter build/asan/bin/intake-worker build/asan/bin/intakectl \
	   build/asan/bin/envelope-tool $(addprefix build/asan/bin/,$(UNIT))
build/asan/bin/intake-milter: $(call obj,$(MILTER) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)
build/asan/bin/intake-worker: $(call obj,$(WORKER) $(WORKER_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)
build/asan/bin/intakectl: $(call obj,$(CTL) $(WORKER_LIB) $(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)
build/asan/bin/envelope-tool: $(O)/tests/tools/envelope-tool.o $(call obj,$(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)
build/release/bin/envelope-tool: $(O)/tests/tools/envelope-tool.o $(call obj,$(COMMON))
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)
build/asan/bin/test_%: $(O)/tests/unit/test_%.o $(O)/tests/unit/tap.o \
		       $(call obj,$(WORKER_LIB) $(COMMON) milter/mctx.c)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

# The corpus part of test_envelope.c is a binary of its own (skipped without the corpus).
$(O)/tests/unit/test_corpus.o: tests/unit/test_envelope.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DTEST_CORPUS -c -o $@ $<

# test_filter includes the stage it tests.
$(O)/tests/unit/test_filter.o: worker/stage_filter.c worker/pipeline.c

# Fuzzing (tests/fuzz/README.md): the targets built with clang's libFuzzer under build/fuzz,
# then each run for FUZZ_SECONDS. make check replays their saved inputs with the gcc ASan
# build (test_fuzz_regressions: each target's LLVMFuzzerTestOneInput renamed by -D).
FUZZ_CC    ?= clang-14
# UB checks recover only so that tests/fuzz/known.supp can skip known findings; the run
# halts on any other (UBSAN_OPTIONS halt_on_error=1).
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	      -fsanitize-recover=undefined
FUZZ_SECONDS ?= 60
fuzz:
	@sh tests/lib/deps.sh fuzz
	@$(MAKE) --no-print-directory O=build/fuzz CC=$(FUZZ_CC) SAN="$(FUZZ_FLAGS)" CFLAGS="-O1 -g" \
		fuzz-bins
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash tests/fuzz/run $(FUZZ_TARGETS)
fuzz-bins: $(addprefix build/fuzz/bin/fuzz_,$(FUZZ_TARGETS))
build/fuzz/bin/fuzz_%: $(O)/tests/fuzz/fuzz_%.o $(O)/tests/fuzz/fuzz.o \
		       $(call obj,$(WORKER_LIB) $(COMMON) milter/mctx.c)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)
$(O)/tests/fuzz/%.o: ALL_CFLAGS += -Imilter -Itests/unit
$(O)/tests/fuzz/replay_%.o: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DLLVMFuzzerTestOneInput=fuzz_$*_one -c -o $@ $<
build/asan/bin/test_fuzz_regressions: $(O)/tests/fuzz/replay.o $(O)/tests/fuzz/fuzz.o \
		$(O)/tests/unit/tap.o $(patsubst %,$(O)/tests/fuzz/replay_%.o,$(FUZZ_TARGETS)) \
		$(call obj,$(WORKER_LIB) $(COMMON) milter/mctx.c)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

deps:
	@sh tests/lib/deps.sh

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory asan
	@bash tests/run $(TESTS)

unit: asan
	@bash tests/run unit

bench: deps all build/release/bin/envelope-tool
	@bash tests/bench/run

demo: deps all
	@bash tests/lib/demo.sh start

demo-stop:
	@bash tests/lib/demo.sh stop

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(SYSCONFDIR)/intake/templates
	install -m 0755 milter/intake-milter worker/intake-worker $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 worker/intakectl $(DESTDIR)$(PREFIX)/bin/
	test -e $(DESTDIR)$(SYSCONFDIR)/intake/intake.conf || \
		install -m 0640 conf/intake.conf $(DESTDIR)$(SYSCONFDIR)/intake/intake.conf
	for t in conf/templates/*; do \
		test -e $(DESTDIR)$(SYSCONFDIR)/intake/templates/$${t##*/} || \
		install -m 0644 $$t $(DESTDIR)$(SYSCONFDIR)/intake/templates/; done

clean:
	rm -rf build milter/intake-milter worker/intake-worker worker/intakectl
