#!/bin/sh
# install-owner.sh USER GROUP CONFIG STATEDIR: what `make install` does as root on the system
# itself (empty DESTDIR; a package does it in its postinst instead): creates the system user
# USER with its group GROUP when missing, makes STATEDIR (the ticket store) USER:GROUP 0750 and
# CONFIG root:GROUP 0640 (the daemons read it, others may not: it may hold the Redis password).
# Anything that fails stops the install with a message saying what to do.
set -eu
user=$1 group=$2 conf=$3 state=$4

die() { echo "install-owner.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "not root: create user $user yourself, then chown $user:$group $state"

if ! getent passwd "$user" > /dev/null; then
    if command -v adduser > /dev/null; then
	adduser --system --group --home "$state" --no-create-home --shell /usr/sbin/nologin "$user" ||
	    die "adduser $user failed"
    else
	useradd --system --user-group --home-dir "$state" --shell /usr/sbin/nologin "$user" ||
	    die "useradd $user failed"
    fi
    echo "install-owner.sh: created system user $user"
fi
getent group "$group" > /dev/null || die "no group $group (set INTAKE_GROUP=)"
chown "$user:$group" "$state" && chmod 0750 "$state" || die "cannot chown $state"
chown "root:$group" "$conf" && chmod 0640 "$conf" || die "cannot chown $conf"
