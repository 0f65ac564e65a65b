# The AppArmor profile of tests/vm/guest/apparmor.sh, compiled by hooks/oci.sh on the
# host (apparmor_parser -Q) and loaded by the guest: everything allowed but two reads and
# writes, so that the test sees both that the profile is entered and that it holds.
abi <abi/3.0>,
profile tinyctr-test flags=(attach_disconnected) {
  file,
  capability,
  network,
  mount,
  umount,
  pivot_root,
  signal,
  ptrace,
  unix,
  dbus,
  deny /etc/hostname r,
  deny /shared/denied w,
}
