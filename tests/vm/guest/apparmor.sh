# apparmor.sh: an OCI process's AppArmor profile applied for real, in a guest whose
# (Debian) kernel runs AppArmor: the profile of tests/vm/hooks/apparmor.profile, compiled
# on the host, is loaded as containerd loads its own; a container asking for it runs
# its program under it (its deny rule holds), so does a process exec'd with it, and a
# profile that is not loaded fails create by name, leaving nothing.
. /vm/lib.sh
O=/vm/tinyctr-oci
if [ ! -x "$O" ] || [ ! -s /vm/apparmor.bin ]; then
	skip "no OCI build or no compiled profile in the initramfs"
	vm_finish
fi
oci() { "$O" --root /tmp/oci-state --log /tmp/oci.log --log-format json "$@"; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t securityfs securityfs /sys/kernel/security
check_eq "Y" "$(cat /sys/module/apparmor/parameters/enabled 2>&1)" "the guest kernel runs AppArmor"
check "load the test profile" sh -c 'cat /vm/apparmor.bin > /sys/kernel/security/apparmor/.load'
check "tinyctr check says AppArmor profiles are applied" sh -c "'$O' check | grep -q '^apparmor:   yes'"

stopped() {
	for _ in $(seq 100); do
		oci state "$1" 2>/dev/null | grep -q '"status":"stopped"' && return 0
		sleep 0.05
	done
	return 1
}

oci create --bundle /vm/bundle-aa --pid-file /tmp/aa.pid aa </dev/null >/tmp/aa.out 2>&1
check_eq "0" "$?" "create with apparmorProfile tinyctr-test ($(cat /tmp/aa.out))"
check "start" oci start aa
check "the program ended" stopped aa
check_eq "tinyctr-test (enforce)" "$(sed -n 1p /vm/shared/aa)" "the program runs under the profile"
check_eq "denied" "$(sed -n 2p /vm/shared/aa)" "the profile's deny rule holds"
check "delete" oci delete aa

# exec with the profile, into a container without one.
oci create --bundle /vm/bundle-sleep --pid-file /tmp/c2.pid c2 </dev/null >/tmp/c2.out 2>&1
check_eq "0" "$?" "create c2 ($(cat /tmp/c2.out))"
check "start c2" oci start c2
check "exec with the profile" oci exec --process /vm/aa-exec.json c2
check_eq "tinyctr-test (enforce)" "$(cat /vm/shared/aa-exec)" "the exec'd process runs under the profile"
check_eq "unconfined" "$(cat /proc/$(cat /tmp/c2.pid)/attr/apparmor/current)" "the init does not"
check "delete c2" oci delete --force c2

# A profile that is not loaded: create fails by name, nothing is left.
sed 's/"tinyctr-test"/"tinyctr-not-loaded"/' /vm/bundle-aa/config.json >/tmp/nl.json
mkdir -p /tmp/bundle-nl && cp /tmp/nl.json /tmp/bundle-nl/config.json
sed -i 's#"path": *"rootfs"#"path": "/vm/bundle/rootfs"#; s#"path":"rootfs"#"path":"/vm/bundle/rootfs"#' /tmp/bundle-nl/config.json
oci create --bundle /tmp/bundle-nl --pid-file /tmp/nl.pid nl </dev/null >/tmp/nl.out 2>&1
check_eq "1" "$?" "create with a profile that is not loaded fails"
check_match "*tinyctr-not-loaded*not loaded*" "$(cat /tmp/nl.out)" "the error names the profile"
check_match "*does not exist*" "$(oci state nl 2>&1)" "no state left"
left=$(find /sys/fs/cgroup -type d -path '*vmoci*' 2>/dev/null)
check_eq "" "$left" "no cgroup left"
