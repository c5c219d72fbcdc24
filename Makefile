# Intake: turn support mail into tickets at delivery time.
#
#   make            build milter/intake-milter, worker/intake-worker, worker/intakectl
#   make deps       install the Debian packages that are missing (as root)
#   make check      deps + AddressSanitizer/UBSan build + every test; ends "N passed, N failed"
#   make bench      benchmarks (prints figures; not part of check)
#   make corpus-report  the auto-generated mail classifier on ../shared/corpus (confusion table)
#   make fuzz       libFuzzer targets (tests/fuzz), each run FUZZ_SECONDS (default 60)
#   make demo       deps + build + a private Redis, Postfix and both daemons under .demo/
#                   (STORE=postgresql: a private PostgreSQL cluster and two workers)
#   make demo-stop  stop what make demo started
#   make install    PREFIX=/usr/local DESTDIR= MILTER_GROUP=postfix (see the install target)
#   make check-sendmail  Intake behind a real Sendmail, in a throw-away Debian 12 chroot (root)
#   make check-rt   the rt sink against a private Request Tracker 5 (installs RT's packages; root)

PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
UNITDIR  ?= /etc/systemd/system
INTAKE_USER ?= intake
INTAKE_GROUP ?= intake
# The milter's group: the MTA's, so that it can use the milter's socket (Sendmail: smmsp).
MILTER_GROUP ?= postfix
CC       ?= cc
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS   ?= -O2 -g

# Each program gets the include paths and libraries it needs, no more: common/ is compiled with
# -Icommon only (it cannot include a daemon's header), the milter with -Icommon -Imilter (never
# worker code) and links libmilter but not SQLite or curl, the worker and intakectl the reverse.
# -MMD -MP: each object depends on the headers it includes (build/*/.../*.d).
PKGS_COMMON := gmime-3.0 glib-2.0 jansson hiredis libxml-2.0 libzstd
PKGS_WORKER := $(PKGS_COMMON) sqlite3 libcurl libpsl libmicrohttpd libexttextcat
pkg_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pkg_libs = $(shell pkg-config --libs $(1) 2>/dev/null)
BASE_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) $(SAN) -MMD -MP
CFLAGS_COMMON = -Icommon $(call pkg_cflags,$(PKGS_COMMON))
CFLAGS_MILTER = -Icommon -Imilter $(call pkg_cflags,$(PKGS_COMMON))
CFLAGS_WORKER = -Icommon -Iworker $(call pkg_cflags,$(PKGS_WORKER))
LIBS_COMMON = $(call pkg_libs,$(PKGS_COMMON)) -pthread -lm
LIBS_MILTER = $(LIBS_COMMON) -lmilter
# libstemmer (Snowball) has no pkg-config file.
LIBS_WORKER = $(call pkg_libs,$(PKGS_WORKER)) -lstemmer -pthread -lm
LINK      = $(CC) $(BASE_CFLAGS) -o $@ $^

# O is the object directory: build/release for installed binaries, build/asan for tests.
O        ?= build/release

COMMON   := common/log.c common/config.c common/addr.c common/addrlist.c common/html.c \
	    common/mime.c common/mime_parse.c common/mime_attach.c common/mime_message.c \
	    common/mime_repair.c common/charset.c \
	    common/envelope.c common/envelope_header.c common/envelope_codec.c \
	    common/redisq.c common/stream.c common/durable.c common/enqueue.c common/daemon.c \
	    common/autogen.c common/mctx.c common/srs.c common/forward.c common/returned.c \
	    common/mstats.c common/zframe.c
# Redis connections split from redisq.c; Redis Sentinel (docs/design.md "Highly available Redis").
COMMON   += common/redisq_connect.c common/redisq_send.c common/redisq_pool.c common/sentinel.c common/sentinel_conf.c
MILTER   := milter/intake-milter.c milter/generation.c milter/signals.c \
	    milter/durable_watch.c milter/mstats_flush.c
WORKER_LIB := worker/store.c worker/store_sqlite.c worker/store_sqlite_sql.c \
	    worker/store_sqlite_util.c worker/store_sqlite_tickets.c worker/store_sqlite_outbox.c \
	    worker/store_sqlite_autogen.c worker/store_sqlite_reports.c worker/store_sqlite_cases.c \
	    worker/store_sqlite_blob.c worker/store_sqlite_fts.c worker/store_sqlite_faq.c worker/ctl_show.c worker/rules.c \
	    worker/rules_match.c worker/cfgfile.c worker/ticketno.c worker/quote.c worker/classify_lang.c \
	    worker/faq_files.c worker/classify_tags.c worker/classify_sentiment.c worker/words.c \
	    worker/stem.c worker/nbayes.c worker/store_sqlite_model.c \
	    worker/template.c worker/smtp.c worker/reply.c worker/subject.c worker/msgid.c \
	    worker/thread_policy.c worker/queue.c worker/dlq.c \
	    worker/checkconf.c worker/ackcap.c worker/metrics.c worker/metrics_http.c \
	    worker/metrics_worker.c worker/store_sqlite_projects.c worker/timeentry.c
# The read-only HTTP API (branch api): on the worker's HTTP server, over its own store connections.
WORKER_LIB += worker/api.c worker/api_params.c worker/api_tickets.c worker/api_search.c \
	    worker/api_attach.c worker/store_sqlite_api.c
# Sinks (docs/events.md): their config, types and events; the sender threads are the worker's.
SINKS_LIB := worker/sinks.c worker/sink_config.c worker/sink_webhook.c worker/sink_event.c \
	    worker/store_sqlite_events.c
WORKER_LIB += $(SINKS_LIB)
# The PostgreSQL store (branch pg): libpq for the worker, intakectl and their unit tests only.
PKGS_WORKER += libpq
WORKER_LIB += worker/store_pg.c worker/store_pg_util.c worker/store_pg_schema.c worker/store_pg_tickets.c \
	    worker/store_pg_outbox.c worker/store_pg_reports.c
# The customer's own lines, found once for the classify stage's parts (branch classify).
WORKER_LIB += worker/classify_text.c
# The PostgreSQL store's FAQ, category model, projects and kept-mail reports (branch pgparity).
WORKER_LIB += worker/store_pg_faq.c worker/store_pg_model.c worker/store_pg_projects.c \
	    worker/store_pg_autogen.c
WORKER_LIB += worker/store_pg_events.c worker/store_pg_api.c
# FAQ entries ranked in memory as FTS5 ranks them (branch classify2).
WORKER_LIB += worker/faq_index.c
# FTS5's tokenizer outside a table: the FAQ index's tokens, the search's words.
WORKER_LIB += worker/fts_tokenizer.c
# The pipeline (pipeline.c, the stages and job.c below them), linked by the worker and by its
# unit tests.
PIPELINE := worker/pipeline.c worker/job.c worker/stage_decode.c worker/stage_filter.c worker/stage_thread.c \
	    worker/stage_classify.c worker/classify_faq.c worker/stage_store.c worker/stage_reply.c worker/stage_autogen.c \
	    worker/ack_policy.c worker/stage_notify.c worker/classify_category.c worker/stage_action.c
# The preparing threads (issue 9): decode and classify ahead of the writer.
PIPELINE += worker/prepare.c
WORKER   := worker/intake-worker.c worker/batch.c worker/outbox.c worker/maint.c $(PIPELINE)
CTL      := worker/intakectl.c worker/ctl_check.c worker/ctl_rules.c worker/ctl_faq.c worker/import.c worker/import_feed.c \
	    worker/import_mbox.c worker/import_maildir.c worker/import_imap.c worker/ctl_train.c \
	    worker/ctl_projects.c
# Sinks: the sender threads (the worker's), intakectl sinks.
WORKER   += worker/sink_sender.c
CTL      += worker/ctl_sinks.c
# intakectl migrate-store: an SQLite store copied into PostgreSQL (branch pgmigrate).
CTL      += worker/ctl_migrate.c worker/ctl_migrate_tables.c
# The Request Tracker sink (docs/rt.md): the type and its REST2 client, beside the other sinks
# in the worker's library (so that test_rt_rest links the client).
WORKER_LIB += worker/rt_rest.c worker/sink_rt.c
UNIT     := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c)) test_corpus \
	    test_autogen_corpus
# Unit tests of common/ link common/ alone; every other unit test links the worker's library too.
UNIT_COMMON := test_addr test_config test_envelope test_corpus test_durable test_autogen test_redisq \
	    test_autogen_corpus test_mctx test_forward test_returned test_zframe
UNIT_COMMON += test_sentinel
FUZZ_TARGETS := envelope decode config template reply ack thread rules quote tags stem zframe
FUZZ_TARGETS += api_params

obj = $(patsubst %.c,$(O)/%.o,$(1))
MILTER_OBJS = $(call obj,$(MILTER) $(COMMON))
WORKER_OBJS = $(call obj,$(WORKER) $(WORKER_LIB) $(COMMON))
CTL_OBJS    = $(call obj,$(CTL) $(PIPELINE) $(WORKER_LIB) $(COMMON))
unit_objs   = $(O)/tests/unit/$(1).o $(O)/tests/unit/tap.o $(call obj,$(COMMON) \
	      $(if $(filter $(1),test_import_mbox),worker/import_mbox.c) \
	      $(if $(filter $(1),$(UNIT_COMMON)),,$(WORKER_LIB) $(PIPELINE)))
unit_libs   = $(if $(filter $(1),$(UNIT_COMMON)),$(LIBS_COMMON),$(LIBS_WORKER))
unit_cflags = $(if $(filter $(1),$(UNIT_COMMON) tap),$(CFLAGS_COMMON),$(CFLAGS_WORKER))

.PHONY: man check-sendmail check-rt all deps check unit bench corpus-report demo demo-stop install clean asan asan-bins fuzz fuzz-bins
all: milter/intake-milter worker/intake-worker worker/intakectl build/man/intake.conf.5

# Man pages: intake-milter(8), intake-worker(8), intakectl(8) are mdoc written by hand (man/);
# intake.conf(5) is made from docs/intake.conf.md by awk (man/conf2man.awk), dated by that file's
# last commit. tests/it/it_docs_man.sh lints them all with mandoc.
MANDIR   ?= $(PREFIX)/share/man
MAN8     := man/intake-milter.8 man/intake-worker.8 man/intakectl.8
MAN_DATE ?= $(or $(shell git log -1 --format=%cs -- docs/intake.conf.md 2>/dev/null),$(shell date +%F))
man: build/man/intake.conf.5
build/man/intake.conf.5: docs/intake.conf.md man/conf2man.awk
	@mkdir -p $(dir $@)
	awk -v date=$(MAN_DATE) -f man/conf2man.awk docs/intake.conf.md > $@.tmp && mv $@.tmp $@

milter/intake-milter build/asan/bin/intake-milter: $(MILTER_OBJS)
	@mkdir -p $(dir $@)
	$(LINK) $(LIBS_MILTER)
worker/intake-worker build/asan/bin/intake-worker: $(WORKER_OBJS)
	@mkdir -p $(dir $@)
	$(LINK) $(LIBS_WORKER)
worker/intakectl build/asan/bin/intakectl: $(CTL_OBJS)
	@mkdir -p $(dir $@)
	$(LINK) $(LIBS_WORKER)
# config-defaults: every intake.conf key and default from common/config.c (it_docs_config_keys).
build/asan/bin/config-defaults build/release/bin/config-defaults: \
		$(O)/tests/tools/config-defaults.o $(call obj,$(COMMON))
	@mkdir -p $(dir $@)
	$(LINK) $(LIBS_COMMON)
build/asan/bin/envelope-tool build/release/bin/envelope-tool: \
		$(O)/tests/tools/envelope-tool.o $(call obj,$(COMMON))
	@mkdir -p $(dir $@)
	$(LINK) $(LIBS_COMMON)

$(O)/common/%.o: common/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS_COMMON) -c -o $@ $<
$(O)/milter/%.o: milter/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS_MILTER) -c -o $@ $<
$(O)/worker/%.o: worker/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS_WORKER) -c -o $@ $<
$(O)/tests/tools/%.o: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS_COMMON) -c -o $@ $<
$(O)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(call unit_cflags,$*) -c -o $@ $<
# The corpus part of test_envelope.c is a binary of its own (skipped without the corpus).
$(O)/tests/unit/test_corpus.o: tests/unit/test_envelope.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS_COMMON) -DTEST_CORPUS -c -o $@ $<
# The corpus check of the classifier is tests/tools/autogen-report.c in its TAP mode.
$(O)/tests/unit/test_autogen_corpus.o: tests/tools/autogen-report.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS_COMMON) -DTEST_CORPUS -c -o $@ $<
build/asan/bin/autogen-report build/release/bin/autogen-report: \
		$(O)/tests/tools/autogen-report.o $(call obj,$(COMMON))
	@mkdir -p $(dir $@)
	$(LINK) $(LIBS_COMMON)

-include $(shell find $(O) -name '*.d' 2>/dev/null)

# Sanitizer build used by the tests: binaries under build/asan/bin.
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
asan:
	@$(MAKE) --no-print-directory O=build/asan SAN="$(ASAN_FLAGS)" CFLAGS="-O1 -g" asan-bins
asan-bins: build/asan/bin/intake-milter build/asan/bin/intake-worker build/asan/bin/intakectl \
	   build/asan/bin/envelope-tool build/asan/bin/config-defaults build/asan/bin/hostile-mail $(addprefix build/asan/bin/,$(UNIT)) \
	   build/asan/bin/test_fuzz_regressions

# One rule per unit test (a pattern rule cannot pick its objects by the test's name).
define unit_rule
build/asan/bin/$(1): $(call unit_objs,$(1))
	@mkdir -p $$(dir $$@)
	$$(LINK) $(call unit_libs,$(1))
endef
$(foreach t,$(UNIT),$(eval $(call unit_rule,$(t))))
# floor-milter: the accept-everything libmilter filter make bench measures intake-milter against.
build/release/bin/floor-milter: tests/bench/floor-milter.c milter/protocol.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -Imilter -o $@ $< -lmilter -pthread
# hostile-mail writes the hostile mails of it_hostile and make bench (no libraries).
build/asan/bin/hostile-mail build/release/bin/hostile-mail: tests/tools/hostile-mail.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARN) -O2 -o $@ $<

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
# The targets drive the message state (common/mctx.c) and the worker's library.
CFLAGS_FUZZ = -Icommon -Iworker -Itests/unit $(call pkg_cflags,$(PKGS_WORKER))
FUZZ_LIB_OBJS = $(call obj,$(WORKER_LIB) $(COMMON) worker/ack_policy.c)
build/fuzz/bin/fuzz_%: $(O)/tests/fuzz/fuzz_%.o $(O)/tests/fuzz/fuzz.o $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS_WORKER)
$(O)/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS_FUZZ) -c -o $@ $<
$(O)/tests/fuzz/replay_%.o: tests/fuzz/fuzz_%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS_FUZZ) -DLLVMFuzzerTestOneInput=fuzz_$*_one -c -o $@ $<
build/asan/bin/test_fuzz_regressions: $(O)/tests/fuzz/replay.o $(O)/tests/fuzz/fuzz.o \
		$(O)/tests/unit/tap.o $(patsubst %,$(O)/tests/fuzz/replay_%.o,$(FUZZ_TARGETS)) \
		$(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(LINK) $(LIBS_WORKER)

deps:
	@sh tests/lib/deps.sh

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory asan
	@bash tests/run $(TESTS)

unit: asan
	@bash tests/run unit

bench: deps all build/release/bin/envelope-tool build/release/bin/hostile-mail \
       build/release/bin/floor-milter
	@bash tests/bench/run

# The auto-generated mail classifier against ../shared/corpus (or INTAKE_CORPUS): confusion table.
corpus-report: build/release/bin/autogen-report
	@build/release/bin/autogen-report

# Sendmail and Postfix cannot be installed together: tests/sendmail/check.sh runs in a throw-away
# Debian 12 chroot (fresh.sh: the committed and staged files of this checkout, apt through the
# host's mirror). Needs root; one to two minutes, most of it installing packages.
FRESH_SH ?= ../shared/tools/fresh-debian/fresh.sh
FRESH_OPTS ?=
check-sendmail:
	@test -f $(FRESH_SH) || { echo "no $(FRESH_SH): set FRESH_SH=" >&2; exit 2; }
	bash $(FRESH_SH) --timeout 2400 $(FRESH_OPTS) . -- \
		env INTAKE_THROWAWAY_SYSTEM=1 bash tests/sendmail/check.sh

# The rt sink against a real RT 5 (tests/rt/, docs/rt.md): installing RT is slow, so make check
# neither installs it nor runs these; the normal runner runs them with INTAKE_CHECK_RT=1.
check-rt:
	@sh tests/lib/deps.sh rt
	@$(MAKE) --no-print-directory asan
	INTAKE_CHECK_RT=1 bash tests/run rt

demo: deps all
	@STORE=$(STORE) bash tests/lib/demo.sh start

demo-stop:
	@bash tests/lib/demo.sh stop

# install: binaries, man pages (MANDIR), /etc/intake/intake.conf (0640) and templates without
# overwriting what is there, the sentiment lexicon (/usr/share/intake/sentiment, the default of
# [worker] sentiment_lexicons), /var/lib/intake (0750), the systemd units with this PREFIX's paths. As root with an
# empty DESTDIR it also creates the system user intake and gives it the state directory and the
# config's group (contrib/install-owner.sh); with DESTDIR (packaging) it installs files only.
install: all
	install -d -m 0755 $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
		$(DESTDIR)$(SYSCONFDIR)/intake $(DESTDIR)$(SYSCONFDIR)/intake/templates \
		$(DESTDIR)$(UNITDIR)
	install -d -m 0750 $(DESTDIR)$(LOCALSTATEDIR)/lib/intake
	install -m 0755 milter/intake-milter worker/intake-worker $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 worker/intakectl $(DESTDIR)$(PREFIX)/bin/
	test -e $(DESTDIR)$(SYSCONFDIR)/intake/intake.conf || \
		install -m 0640 conf/intake.conf $(DESTDIR)$(SYSCONFDIR)/intake/intake.conf
	for t in conf/templates/*; do \
		test -e $(DESTDIR)$(SYSCONFDIR)/intake/templates/$${t##*/} || \
		install -m 0644 $$t $(DESTDIR)$(SYSCONFDIR)/intake/templates/ || exit 1; done
	for u in contrib/systemd/*.service; do \
		sed -e 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' -e 's|/usr/local/share/|$(PREFIX)/share/|g' \
		    -e 's|/etc/intake/|$(SYSCONFDIR)/intake/|g' -e 's|^Group=postfix$$|Group=$(MILTER_GROUP)|' $$u > $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp && \
		mv $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; done
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 build/man/intake.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -d -m 0755 $(DESTDIR)/usr/share/intake/sentiment/en
	install -m 0644 contrib/sentiment/en/* $(DESTDIR)/usr/share/intake/sentiment/en/
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/doc/intake
	install -m 0644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/intake/
	install -m 0644 docs/api.openapi.yaml $(DESTDIR)$(PREFIX)/share/doc/intake/
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
		sh contrib/install-owner.sh $(INTAKE_USER) $(INTAKE_GROUP) \
		    $(SYSCONFDIR)/intake/intake.conf $(LOCALSTATEDIR)/lib/intake; fi

clean:
	rm -rf build milter/intake-milter worker/intake-worker worker/intakectl
