#!/bin/bash
# it_install.sh: `make install DESTDIR=$T/root PREFIX=/usr` installs files only (no user, no
# chown): binaries 0755, /etc/intake/intake.conf 0640, templates 0644, /var/lib/intake 0750,
# the systemd units (with the PREFIX's paths, the hardening directives, ExecReload) 0644, all
# owned by the installing user. A second install keeps an edited config and template. The units
# pass systemd-analyze verify (when it is installed). contrib/install-owner.sh, what an install
# on the system itself runs as root, gives the state directory and the config's group to the
# daemons' user (tried with an existing user, nobody:nogroup, so that the host is not changed).
# MILTER_GROUP=smmsp gives the milter's unit Sendmail's group; make and make install never
# install packages.
. "$(dirname "$0")/../lib/harness.sh"
h_init it_install

R=$T/root
me="$(id -un):$(id -gn)"

if make -C "$H_ROOT" --no-print-directory install DESTDIR="$R" PREFIX=/usr > "$T/install.log" 2>&1; then
    h_pass "make install DESTDIR=$R PREFIX=/usr"
else
    tail -n 20 "$T/install.log" | sed 's/^/#   /'
    h_die "make install failed"
fi

# path mode: what the first install must have made, all owned by the installing user.
while read -r path mode; do
    if [ -e "$R/$path" ]; then
	h_assert_eq "$mode $me" "$(stat -c '%a %U:%G' "$R/$path")" "installed /$path: mode $mode, owner $me"
    else
	h_fail "not installed: /$path"
    fi
done <<'EOF'
usr/sbin/intake-milter 755
usr/sbin/intake-worker 755
usr/bin/intakectl 755
etc/intake 755
etc/intake/intake.conf 640
etc/intake/templates 755
etc/intake/templates/ack.en.txt 644
etc/intake/templates/ack.de.txt 644
etc/intake/templates/ack.da.txt 644
etc/intake/templates/ack.fr.txt 644
var/lib/intake 750
etc/systemd/system/intake-milter.service 644
etc/systemd/system/intake-worker.service 644
usr/share/man/man5/intake.conf.5 644
usr/share/man/man8/intake-milter.8 644
usr/share/man/man8/intake-worker.8 644
usr/share/man/man8/intakectl.8 644
usr/share/intake/sentiment/en/labels.json 644
usr/share/intake/sentiment/en/negators.json 644
EOF
h_assert_eq "" "$(find "$R" -perm -o+w ! -type l)" "nothing installed is world-writable"

# The units: this PREFIX's paths, the hardening, a reload.
for unit in milter worker; do
    f=$R/etc/systemd/system/intake-$unit.service
    h_assert_eq "ExecStart=/usr/sbin/intake-$unit -f -c /etc/intake/intake.conf" "$(grep '^ExecStart=' "$f")" \
	"intake-$unit.service: ExecStart names /usr/sbin"
    for d in UMask=0077 NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes User=intake \
	     'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qx -F "$d" "$f" && h_pass "intake-$unit.service: $d" || h_fail "intake-$unit.service: no line $d"
    done
done
f=$R/etc/systemd/system/intake-worker.service
for d in StateDirectory=intake StateDirectoryMode=0750 Group=intake; do
    grep -qx -F "$d" "$f" && h_pass "intake-worker.service: $d" || h_fail "intake-worker.service: no line $d"
done
f=$R/etc/systemd/system/intake-milter.service
for d in RuntimeDirectory=intake Group=postfix; do
    grep -qx -F "$d" "$f" && h_pass "intake-milter.service: $d" || h_fail "intake-milter.service: no line $d"
done

# A second install keeps what the postmaster edited.
echo "# edited by the postmaster" >> "$R/etc/intake/intake.conf"
echo "edited template" >> "$R/etc/intake/templates/ack.en.txt"
cp "$R/etc/intake/intake.conf" "$T/conf.edited"
cp "$R/etc/intake/templates/ack.en.txt" "$T/ack.edited"
make -C "$H_ROOT" --no-print-directory install DESTDIR="$R" PREFIX=/usr >> "$T/install.log" 2>&1 ||
    h_fail "second make install failed"
cmp -s "$T/conf.edited" "$R/etc/intake/intake.conf" && h_pass "second install: edited intake.conf kept" ||
    h_fail "second install: intake.conf overwritten"
cmp -s "$T/ack.edited" "$R/etc/intake/templates/ack.en.txt" && h_pass "second install: edited template kept" ||
    h_fail "second install: template overwritten"
h_assert_eq "640" "$(stat -c %a "$R/etc/intake/intake.conf")" "second install: intake.conf still 0640"

# systemd-analyze verify: the installed units, their commands pointed into $R (the binaries are
# not on this host's /usr/sbin). verify exits 0 even on unknown keys: it must print nothing
# about our units. It also loads the host's other units and complains about theirs (Debian's
# request-tracker5.service names dependencies as "mysql postgresql"): those lines are not ours.
if command -v systemd-analyze > /dev/null; then
    mkdir -p "$T/verify"
    for u in "$R"/etc/systemd/system/*.service; do
	sed "s|=/usr/sbin/|=$R/usr/sbin/|" "$u" > "$T/verify/${u##*/}"
    done
    out=$(systemd-analyze verify "$T"/verify/*.service 2>&1 | grep -F -e intake- -e "$T/verify")
    h_assert_eq "" "$out" "systemd-analyze verify: no complaint about the units"
else
    h_note "systemd-analyze not installed: units not verified (apt-get install systemd)"
fi

# MILTER_GROUP: the MTA's group in the milter's unit (Sendmail's smmsp); nothing else changes.
if make -C "$H_ROOT" --no-print-directory install DESTDIR="$T/sm" PREFIX=/usr MILTER_GROUP=smmsp \
	> "$T/install-sm.log" 2>&1; then
    h_assert_eq "Group=smmsp" "$(grep '^Group=' "$T/sm/etc/systemd/system/intake-milter.service")" \
	"make install MILTER_GROUP=smmsp: intake-milter.service has Group=smmsp"
    h_assert_eq "Group=intake" "$(grep '^Group=' "$T/sm/etc/systemd/system/intake-worker.service")" \
	"make install MILTER_GROUP=smmsp: intake-worker.service keeps Group=intake"
else
    h_fail "make install MILTER_GROUP=smmsp failed: $(tail -n 3 "$T/install-sm.log")"
fi
# make and make install never install packages (on a Sendmail host, apt would remove it for
# Postfix): what they would run names neither deps.sh nor apt.
h_assert_eq "" "$(make -C "$H_ROOT" --no-print-directory -n -B all install DESTDIR="$T/dry" 2>&1 |
    grep -E 'deps\.sh|apt-get|dpkg')" "make -n all install: no deps.sh, apt-get or dpkg"

# install-owner.sh, as `make install` runs it on the system itself, with an existing user.
if sh "$H_ROOT/contrib/install-owner.sh" nobody nogroup "$R/etc/intake/intake.conf" "$R/var/lib/intake" \
	> "$T/owner.log" 2>&1; then
    h_pass "install-owner.sh nobody nogroup"
else
    h_fail "install-owner.sh failed: $(cat "$T/owner.log")"
fi
h_assert_eq "750 nobody:nogroup" "$(stat -c '%a %U:%G' "$R/var/lib/intake")" "install-owner.sh: state directory for the daemons' user"
h_assert_eq "640 root:nogroup" "$(stat -c '%a %U:%G' "$R/etc/intake/intake.conf")" "install-owner.sh: config readable by the daemons' group"
h_assert_eq "" "$(cat "$T/owner.log")" "install-owner.sh: silent, no user created (nobody exists)"
