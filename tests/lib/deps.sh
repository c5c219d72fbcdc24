#!/bin/sh
# deps.sh: install the Debian packages Intake needs to build and test (run by `make deps`).
#
# With the argument "fuzz" (make fuzz) it also installs clang and its libFuzzer runtime, which
# make check does not need. With "sendmail" (tests/sendmail/check.sh, inside the throw-away
# chroot of make check-sendmail) it installs what building and that check need, with Sendmail
# instead of Postfix: Debian cannot have both, and installing one removes the other. So `make
# deps`, `make check` and `make demo` remove sendmail-bin from a Sendmail host; `make` and
# `make install` never install packages.
# POSIX sh (Debian runs this with dash). Works on a fresh minimal Debian 12: needs only dpkg-query
# and apt-get, no sudo, no pkg-config.
#   - everything installed: prints nothing, exits 0
#   - something missing, running as root: apt-get update (only when a missing package has no
#     install candidate, e.g. empty package lists), preseeds Postfix ("No configuration"), installs
#   - something missing, not root: prints the command to run as root and exits 1
# Installing postfix or redis-server may start the *system* instances; the tests never use or
# touch them (they run private instances under /tmp/intake-tests). dovecot-imapd (it_import_imap
# runs a private Dovecot on a loopback port): a Dovecot installed here is stopped and disabled at
# once, so that no system IMAP listener (143, 993) is left behind by the tests' packages. perl:
# Net::SMTP and Digest::SHA for the tests that send files (h_send_files, it_corpus). prometheus:
# only for its promtool (it_prometheus_rules tests contrib/prometheus); the tests never use its
# daemon, which Debian starts on a systemd host, on port 9090 (`systemctl disable --now
# prometheus` if unwanted).
# With "rt" (make check-rt) it also installs Request Tracker 5 with its SQLite driver and standalone
# server, for tests/rt/ (a private RT on loopback, docs/rt.md): Debian's database configuration
# (dbconfig-common) is preseeded off, so installing creates no system RT database; make deps and
# make check never install RT.

# Then lexicons.sh installs the worker's sentiment lexicon from contrib/sentiment (Debian has none).
# mandoc: the man pages' lint test (it_docs_man). libpq-dev: the PostgreSQL store; postgresql:
# the tests' private clusters (tests/lib/pg.sh runs Debian's /usr/lib/postgresql/15/bin as user
# postgres); the system's cluster that Debian makes is stopped and not started at boot.
BUILD_PACKAGES="build-essential pkg-config libmilter-dev libgmime-3.0-dev libglib2.0-dev
libjansson-dev libhiredis-dev libsqlite3-dev libcurl4-openssl-dev libxml2-dev libpsl-dev
libmicrohttpd-dev libexttextcat-dev libexttextcat-data libzstd-dev libstemmer-dev
libpq-dev"
TOOL_PACKAGES="redis-server redis-tools swaks sqlite3 procps iproute2 ca-certificates jq zstd"
PACKAGES="$BUILD_PACKAGES $TOOL_PACKAGES postfix miltertest perl python3 mandoc curl prometheus
dovecot-core dovecot-imapd openssl postgresql"
FUZZ_PACKAGES="clang-14 libclang-rt-14-dev"
# sensible-mda: sendmail.cf's local mailer (a Recommends of sendmail-bin, which deps.sh leaves out).
RT_PACKAGES="request-tracker5 rt5-db-sqlite rt5-standalone"
SENDMAIL_PACKAGES="sendmail-bin sendmail-cf sensible-mda m4 make"
case "${1:-}" in
    fuzz) PACKAGES="$PACKAGES $FUZZ_PACKAGES" ;;
    rt) PACKAGES="$PACKAGES $RT_PACKAGES" ;;
    sendmail) PACKAGES="$BUILD_PACKAGES $TOOL_PACKAGES $SENDMAIL_PACKAGES" ;;
esac

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
    if [ "$status" != "install ok installed" ]; then
	missing="$missing $p"
    fi
done
missing=${missing# }
[ -z "$missing" ] && exec sh "$(dirname "$0")/lexicons.sh" "${1:-}"

preseed="echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections"
install="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing"

if [ "$(id -u)" != 0 ]; then
    echo "deps: missing packages: $missing" >&2
    echo "deps: run as root:" >&2
    echo "  apt-get update && $preseed && $install" >&2
    exit 1
fi

echo "deps: installing: $missing"

# apt-get update only when needed: a missing package without an install candidate
# (a new machine's package lists may be empty).
need_update=no
for p in $missing; do
    cand=$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
    if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
	need_update=yes
	break
    fi
done
if [ "$need_update" = yes ]; then
    apt-get update || { echo "deps: apt-get update failed" >&2; exit 1; }
fi

case " $missing " in
    *" request-tracker5 "*)
	echo 'request-tracker5 request-tracker5/dbconfig-install boolean false' | debconf-set-selections \
	    || { echo "deps: debconf-set-selections failed" >&2; exit 1; } ;;
esac
case " $missing " in
    *" postfix "*)
	echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections \
	    || { echo "deps: debconf-set-selections failed" >&2; exit 1; } ;;
esac

# shellcheck disable=SC2086 # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing || {
    echo "deps: apt-get install failed" >&2
    exit 1
}

# Check again: apt-get can succeed without installing what was asked for.
still=""
for p in $missing; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
    [ "$status" = "install ok installed" ] || still="$still $p"
done
if [ -n "$still" ]; then
    echo "deps: still missing after install:$still" >&2
    exit 1
fi

# Dovecot just installed (it was missing): Debian may have started the system's instance.
case " $missing " in
    *" dovecot-core "*|*" dovecot-imapd "*)
	if [ -d /run/systemd/system ]; then
	    systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1
	else
	    invoke-rc.d dovecot stop >/dev/null 2>&1
	    update-rc.d dovecot disable >/dev/null 2>&1
	fi
	echo "deps: the system's Dovecot (installed for the tests) is stopped and disabled" ;;
esac
# PostgreSQL just installed: Debian made and may have started the cluster "main".
case " $missing " in
    *" postgresql "*)
	for conf in /etc/postgresql/*/main/start.conf; do
	    [ -f "$conf" ] || continue
	    v=$(basename "$(dirname "$(dirname "$conf")")")
	    pg_ctlcluster "$v" main stop >/dev/null 2>&1
	    echo manual > "$conf"
	done
	echo "deps: the system's PostgreSQL cluster (installed for the tests) is stopped, start manual" ;;
esac
exec sh "$(dirname "$0")/lexicons.sh" "${1:-}"
