# hello.sh: the smallest guest script (vm.sh's KVM probe boots it). To add a VM test,
# copy it to tests/vm/guest/NAME.sh and add `vm_test!(NAME: LAYOUT, ...);` to tests/vm.rs.
# Helpers: tests/vm/lib.sh. The script runs in /root as root; $TINYCTR is the binary.
. /vm/lib.sh
check "tinyctr --version runs" "$TINYCTR" --version
